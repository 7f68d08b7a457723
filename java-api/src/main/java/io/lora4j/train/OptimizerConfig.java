package io.lora4j.train;

/**
 * The optimizer: AdamW (PyTorch's defaults except the learning rate) or SGD with momentum, plus
 * global-norm gradient clipping ({@code maxGradNorm <= 0} turns it off).
 */
public record OptimizerConfig(Kind kind, double beta1, double beta2, double eps, double momentum,
                              double weightDecay, double maxGradNorm) {
    public enum Kind { ADAMW, SGD }

    public OptimizerConfig {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        if (Double.isNaN(maxGradNorm)) throw new IllegalArgumentException("max grad norm is NaN");
    }

    public static OptimizerConfig adamw() {
        return new OptimizerConfig(Kind.ADAMW, 0.9, 0.999, 1e-8, 0, 0, 1.0);
    }

    public static OptimizerConfig sgd(double momentum) {
        return new OptimizerConfig(Kind.SGD, 0.9, 0.999, 1e-8, momentum, 0, 1.0);
    }

    public OptimizerConfig withWeightDecay(double wd) {
        return new OptimizerConfig(kind, beta1, beta2, eps, momentum, wd, maxGradNorm);
    }

    public OptimizerConfig withMaxGradNorm(double norm) {
        return new OptimizerConfig(kind, beta1, beta2, eps, momentum, weightDecay, norm);
    }

    public OptimizerConfig withBetas(double b1, double b2) {
        return new OptimizerConfig(kind, b1, b2, eps, momentum, weightDecay, maxGradNorm);
    }
}
