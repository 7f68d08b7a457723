package io.lora4j.train;

import io.lora4j.train.data.Batch;
import io.lora4j.train.data.BatchIterator;
import io.lora4j.train.data.Batcher;

/**
 * Mean cross-entropy and accuracy of a classifier over examples, and the helpers that read a
 * classifier's logits.
 *
 * @param loss mean cross-entropy
 * @param correct examples whose most probable class is their label
 * @param count examples scored
 */
record ClassifierScore(double loss, long correct, long count) {
    double accuracy() {
        return count == 0 ? Double.NaN : (double) correct / count;
    }

    /** Forward only over every batch of one pass of {@code batcher}; {@code classes[e]} is example e's class. */
    static ClassifierScore of(NativeTrainer trainer, Batcher batcher, int[] classes) {
        double nll = 0;
        long correct = 0, count = 0;
        BatchIterator it = batcher.iterator(1);
        while (it.hasNext()) {
            Batch b = it.next();
            int[] want = classesOf(b, classes);
            float[][] logits = trainer.classify(b);
            for (int k = 0; k < want.length; k++) {
                nll += crossEntropy(logits[k], want[k]);
                if (argmax(logits[k]) == want[k]) correct++;
            }
            count += want.length;
        }
        return new ClassifierScore(nll / Math.max(1, count), correct, count);
    }

    /** The classes of a batch's segments, row by row, from its example ids. */
    static int[] classesOf(Batch b, int[] classes) {
        int n = 0;
        for (int[] row : b.exampleIds()) n += row.length;
        int[] out = new int[n];
        int k = 0;
        for (int[] row : b.exampleIds()) for (int e : row) out[k++] = classes[e];
        return out;
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int c = 1; c < logits.length; c++) if (logits[c] > logits[best]) best = c;
        return best;
    }

    /** softmax(logits), in double. */
    static double[] softmax(float[] logits) {
        double max = logits[argmax(logits)], sum = 0;
        double[] p = new double[logits.length];
        for (int c = 0; c < p.length; c++) sum += p[c] = Math.exp(logits[c] - max);
        for (int c = 0; c < p.length; c++) p[c] /= sum;
        return p;
    }

    static double crossEntropy(float[] logits, int label) {
        double max = logits[argmax(logits)], sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return max + Math.log(sum) - logits[label];
    }
}
