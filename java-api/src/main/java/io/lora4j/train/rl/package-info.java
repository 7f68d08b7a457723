/**
 * Reward-based updates and preference optimisation on LoRA adapters: GRPO and RLOO
 * ({@link io.lora4j.train.rl.GrpoTrainer}), DPO and IPO ({@link io.lora4j.train.rl.DpoTrainer}),
 * reward functions in plain Java ({@link io.lora4j.train.rl.RewardFunction},
 * {@link io.lora4j.train.rl.BatchRewardFunction}, {@link io.lora4j.train.rl.TokenRewardFunction},
 * built-ins in {@link io.lora4j.train.rl.Rewards}) and the loss math
 * ({@link io.lora4j.train.rl.GrpoLoss}, {@link io.lora4j.train.rl.DpoLoss},
 * {@link io.lora4j.train.rl.Advantages}).
 *
 * <p>Start from a {@link io.lora4j.train.LoraSession}:
 * <pre>{@code
 * model.lora(cfg).grpo(prompts).reward(fn).groupSize(8).beta(0.04).clip(0.2).steps(200).train();
 * model.lora(cfg).dpo(pairs).beta(0.1).train();
 * model.lora(cfg).from(sftAdapter).grpo(prompts)...   // RL after SFT
 * }</pre>
 *
 * <p><b>The reference model costs nothing.</b> Every KL and every DPO log-ratio is taken against
 * the same model with the trained adapter switched off, computed by the same trainer: no second
 * copy of the weights. Without {@code from(...)} the reference is the bare base model. With
 * {@code from(adapter)} the starting adapter stays frozen (applied to policy and reference alike)
 * and a fresh adapter of the session's configuration is trained on top, so the reference is the
 * starting point — base plus starting adapter. The trained adapter begins at zero, so at the first
 * step policy and reference agree exactly (KL 0, GRPO ratio 1, DPO loss ln 2). The result
 * ({@code adapter.gguf}) is a single adapter equal to the starting adapter plus the trained one
 * (ranks added), which llama.cpp loads with {@code --lora}; checkpoints hold only the trained
 * part, and resuming needs the same starting adapter again.
 *
 * <p>Each algorithm is Java code over one engine primitive,
 * {@link io.lora4j.train.NativeTrainer#step}: the backward pass of Σ w·log p for per-token
 * weights w, which here are the derivatives of the algorithm's loss by each token's log-prob
 * (see {@link io.lora4j.train.rl.GrpoLoss} and {@link io.lora4j.train.rl.DpoLoss}), plus
 * {@link io.lora4j.train.NativeTrainer#logprobs} with the adapter on (policy) or off (reference).
 * New objectives can be written the same way.
 */
package io.lora4j.train.rl;
