package io.lora4j.train.rl;

import io.lora4j.train.NativeTrainer;
import io.lora4j.train.data.Batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sequences (prompt + completion) laid out in fixed-shape micro-batches for the trainer, with the
 * place of each one, so that per-token log-probs can be read back per sequence and per-token
 * weights written in. Only each sequence's completion tokens ({@code start..end}) are targets.
 * With packing, a sequence goes into the first row of the current micro-batch with room (segments
 * keep them apart); without, one per row. A sequence without completion tokens takes no place.
 */
final class PackedSequences {
    /** One placed sequence: micro-batch, row, offset of its first token, and its completion range. */
    private record Place(int batch, int row, int offset, int start, int end) {}

    private final List<Batch> batches = new ArrayList<>();
    private final Place[] places;

    /**
     * @param tokens each sequence's tokens
     * @param starts index of each sequence's first completion token (tokens before it are the prompt)
     */
    PackedSequences(List<int[]> tokens, int[] starts, int rows, int seqLen, boolean packing, int padId) {
        places = new Place[tokens.size()];
        List<int[]> used = new ArrayList<>();
        List<List<List<Integer>>> rowsOf = new ArrayList<>(); // per batch, per row: the sequences
        for (int s = 0; s < tokens.size(); s++) {
            int len = tokens.get(s).length;
            if (len > seqLen) throw new IllegalArgumentException("sequence of " + len + " tokens exceeds the row of " + seqLen);
            if (starts[s] < 1 || starts[s] > len) {
                throw new IllegalArgumentException("sequence " + s + ": completion start " + starts[s] + " outside 1.." + len);
            }
            if (starts[s] == len) continue;
            int b = rowsOf.size() - 1, r = -1;
            if (b >= 0) {
                int[] u = used.get(b);
                for (int k = 0; k < rows && r < 0; k++) {
                    if (packing ? u[k] + len <= seqLen : u[k] == 0) r = k;
                }
            }
            if (r < 0) {
                List<List<Integer>> fresh = new ArrayList<>();
                for (int k = 0; k < rows; k++) fresh.add(new ArrayList<>());
                rowsOf.add(fresh);
                used.add(new int[rows]);
                b++;
                r = 0;
            }
            places[s] = new Place(b, r, used.get(b)[r], starts[s], len);
            used.get(b)[r] += len;
            rowsOf.get(b).get(r).add(s);
        }
        for (List<List<Integer>> batchRows : rowsOf) {
            int[][] t = new int[rows][seqLen], pos = new int[rows][seqLen], seg = new int[rows][seqLen];
            boolean[][] mask = new boolean[rows][seqLen];
            for (int r = 0; r < rows; r++) {
                Arrays.fill(t[r], padId);
                Arrays.fill(seg[r], Batch.PAD_SEGMENT);
                List<Integer> inRow = batchRows.get(r);
                for (int k = 0; k < inRow.size(); k++) {
                    int s = inRow.get(k);
                    Place p = places[s];
                    int[] seq = tokens.get(s);
                    System.arraycopy(seq, 0, t[r], p.offset(), seq.length);
                    for (int i = 0; i < seq.length; i++) {
                        pos[r][p.offset() + i] = i;
                        seg[r][p.offset() + i] = k;
                        mask[r][p.offset() + i] = i >= p.start();
                    }
                }
            }
            batches.add(new Batch(t, mask, pos, seg));
        }
    }

    /** Each completion after its prompt, the completion's tokens the targets. */
    static PackedSequences completions(List<Completion> samples, int rows, int seqLen, boolean packing, int padId) {
        List<int[]> seqs = new ArrayList<>(samples.size());
        int[] starts = new int[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            Completion c = samples.get(i);
            int[] s = Arrays.copyOf(c.promptTokens(), c.promptTokens().length + c.tokens().length);
            System.arraycopy(c.tokens(), 0, s, c.promptTokens().length, c.tokens().length);
            seqs.add(s);
            starts[i] = c.promptTokens().length;
        }
        return new PackedSequences(seqs, starts, rows, seqLen, packing, padId);
    }

    List<Batch> batches() {
        return batches;
    }

    int size() {
        return places.length;
    }

    /** Each sequence's completion-token log-probs, policy (trainable adapter on) or reference (off). */
    float[][] logprobs(NativeTrainer trainer, boolean policy) {
        List<float[][]> perBatch = new ArrayList<>(batches.size());
        for (Batch b : batches) perBatch.add(trainer.logprobs(b, policy));
        return gather(perBatch);
    }

    /** Each sequence's completion-token values out of per-batch [row][token] arrays. */
    private float[][] gather(List<float[][]> perBatch) {
        float[][] out = new float[places.length][];
        for (int s = 0; s < places.length; s++) {
            Place p = places[s];
            if (p == null) {
                out[s] = new float[0];
                continue;
            }
            out[s] = Arrays.copyOfRange(perBatch.get(p.batch())[p.row()], p.offset() + p.start(), p.offset() + p.end());
        }
        return out;
    }

    /** The per-token weights of micro-batch {@code b} from each sequence's completion-token values. */
    float[][] weights(int b, double[][] perSequence) {
        Batch batch = batches.get(b);
        float[][] w = new float[batch.rows()][batch.seqLen()];
        for (int s = 0; s < places.length; s++) {
            Place p = places[s];
            if (p == null || p.batch() != b) continue;
            for (int i = p.start(); i < p.end(); i++) w[p.row()][p.offset() + i] = (float) perSequence[s][i - p.start()];
        }
        return w;
    }
}
