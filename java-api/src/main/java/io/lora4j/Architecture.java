package io.lora4j;

/** Model architectures the engine runs (the GGUF {@code general.architecture} string). */
public enum Architecture {
    LLAMA("llama"), QWEN2("qwen2");

    private final String ggufName;

    Architecture(String ggufName) {
        this.ggufName = ggufName;
    }

    public String ggufName() {
        return ggufName;
    }

    static Architecture fromCode(int code) {
        return switch (code) {
            case 0 -> LLAMA;
            case 1 -> QWEN2;
            default -> throw new Lora4jException(-1, "unknown architecture code " + code);
        };
    }
}
