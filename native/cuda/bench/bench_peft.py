"""The PEFT baseline for bench_cuda_train: the same llama shape, LoRA and batches in PyTorch.

A transformers LlamaForCausalLM built from a LlamaConfig (random init on the GPU, bf16 weights;
no downloads, nothing read from the hub), default TinyLlama-1.1B's shape; PEFT LoRA r=16,
alpha=32, dropout 0 on q,k,v,o,gate,up,down; AdamW (fused) on the LoRA parameters, gradient
clipping at 1.0 (as HF's Trainer and lora4j's defaults); seq 1024; SDPA attention; TF32 for the
f32 LoRA products; no KV cache in the training forward; gradient checkpointing off unless --ckpt. Per batch size: warm-up steps, then timed steps between
torch.cuda.synchronize() calls; prints ms/step, tokens/s (batch * seq per step) and
torch.cuda.max_memory_allocated (weights included). Then greedy generate() of 8 sequences x 128
new tokens after a 16-token prompt, with the LoRA unmerged (as RL sampling would run).
Lines starting with "RESULT" are for scripts/gpu-check.

    python3 native/cuda/bench/bench_peft.py [--batch 1,4,8] [--seq 1024] [--steps 5] [--warmup 2]
        [--ckpt] [--no-gen] [--small]
"""
import argparse
import gc
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TINYLLAMA = dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
                 intermediate_size=5632, vocab_size=32000)
SMALL = dict(hidden_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             intermediate_size=512, vocab_size=512)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MB = 1.0 / (1024 * 1024)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", default="4", help="comma-separated batch sizes")
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--ckpt", action="store_true", help="gradient checkpointing (off by default)")
    ap.add_argument("--gen-seqs", type=int, default=8)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--no-gen", action="store_true")
    ap.add_argument("--small", action="store_true", help="a tiny shape, for a quick check")
    a = ap.parse_args()
    a.batches = [int(b) for b in a.batch.split(",") if b]
    if a.small:
        a.seq, a.steps, a.warmup, a.gen_seqs, a.gen_tokens = 64, 2, 1, 2, 4
    return a


def build_model(args, torch, transformers, peft):
    shape = SMALL if args.small else TINYLLAMA
    kw = dict(shape, max_position_embeddings=max(2048, args.seq), rms_norm_eps=1e-5, tie_word_embeddings=False)
    try:
        config = transformers.LlamaConfig(attn_implementation="sdpa", **kw)
    except TypeError:
        config = transformers.LlamaConfig(**kw)
    # random init straight on the GPU in bf16 (a CPU init of 1.1B parameters takes minutes)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = transformers.LlamaForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    wdtype = model.model.layers[0].self_attn.q_proj.weight.dtype
    if args.ckpt:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    lora = peft.LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, target_modules=TARGETS,
                           bias="none", task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, lora)
    attn = getattr(model.config, "_attn_implementation", "?")
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lora_dtype = next(p.dtype for p in model.parameters() if p.requires_grad)
    print(f"model: {shape}, {wdtype} weights, attention {attn}; LoRA r={args.rank} alpha={2 * args.rank} on "
          f"{','.join(TARGETS)}: {n_train / 1e6:.1f}M trainable ({lora_dtype}); gradient checkpointing "
          f"{'on' if args.ckpt else 'off'}", flush=True)
    return model, shape["vocab_size"]


def bench_train(args, torch, model, vocab, batch):
    gc.collect()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, fused=True)
    gen = torch.Generator(device="cuda").manual_seed(12345)
    x = torch.randint(0, vocab, (batch, args.seq), device="cuda", generator=gen)
    times, losses = [], []
    for k in range(args.warmup + args.steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = model(input_ids=x, labels=x, use_cache=False).loss  # no KV cache while training
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if k >= args.warmup:
            times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    med = statistics.median(times)
    peak = torch.cuda.max_memory_allocated() * MB
    reserved = torch.cuda.max_memory_reserved() * MB
    tok = batch * args.seq
    print(f"batch {batch} x seq {args.seq}: {med * 1e3:.1f} ms/step (min {min(times) * 1e3:.1f}, max "
          f"{max(times) * 1e3:.1f} over {args.steps} steps after {args.warmup} warm-up), {tok / med:.0f} tokens/s, "
          f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, max allocated {peak:.0f} MB (reserved {reserved:.0f} MB)",
          flush=True)
    print(f"RESULT peft_train batch={batch} seq={args.seq} tokens_per_s={tok / med:.1f} ms_per_step={med * 1e3:.2f} "
          f"peak_mb={peak:.1f} reserved_mb={reserved:.1f}", flush=True)
    del opt, x
    model.zero_grad(set_to_none=True)


def bench_generate(args, torch, model, vocab):
    """Greedy decoding; the prefill (generate with one new token) is timed apart and subtracted."""
    model.eval()
    gen = torch.Generator(device="cuda").manual_seed(777)
    prompt = torch.randint(0, vocab, (args.gen_seqs, 16), device="cuda", generator=gen)
    mask = torch.ones_like(prompt)

    def run(n):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = model.generate(input_ids=prompt, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                             do_sample=False, use_cache=True, pad_token_id=0)
        torch.cuda.synchronize()
        assert out.shape[1] == 16 + n
        return time.perf_counter() - t0

    with torch.no_grad():
        run(8)
        prefill = run(1)
        total = run(args.gen_tokens)
    steps = args.gen_tokens - 1  # generate(n) = the prefill and n - 1 decode steps
    per_step = (total - prefill) / max(steps, 1)
    print(f"generation: {args.gen_seqs} sequences x {args.gen_tokens} new tokens after a 16-token prompt, LoRA "
          f"unmerged: prefill {prefill * 1e3:.1f} ms; decode {args.gen_seqs / per_step:.0f} tokens/s "
          f"({per_step * 1e3:.2f} ms per step)", flush=True)
    print(f"RESULT peft_gen seqs={args.gen_seqs} new_tokens={args.gen_tokens} tokens_per_s="
          f"{args.gen_seqs / per_step:.1f} ms_per_step={per_step * 1e3:.3f} prefill_ms={prefill * 1e3:.2f}",
          flush=True)


def main():
    args = parse_args()
    try:
        import peft
        import torch
        import transformers
    except ImportError as e:
        print(f"SKIP: {e}")
        return 77
    if not torch.cuda.is_available():
        print("SKIP: PyTorch sees no CUDA device")
        return 77
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, "
          f"{torch.cuda.get_device_name(0)}", flush=True)
    torch.set_float32_matmul_precision("high")  # TF32 for the LoRA products: PEFT keeps them in f32
    model, vocab = build_model(args, torch, transformers, peft)
    failed = False
    for b in args.batches:
        try:
            bench_train(args, torch, model, vocab, b)
        except torch.cuda.OutOfMemoryError:
            print(f"batch {b}: out of memory")
            print(f"RESULT peft_train batch={b} seq={args.seq} oom=1", flush=True)
    if not args.no_gen:
        try:
            bench_generate(args, torch, model, vocab)
        except Exception as e:  # keep the training figures when generate() trips
            print(f"generation failed: {type(e).__name__}: {e}", flush=True)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
