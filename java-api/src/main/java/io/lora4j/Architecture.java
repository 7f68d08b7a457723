package io.lora4j;

/** Model architectures the engine runs (the GGUF {@code general.architecture} string). */
public enum Architecture {
    LLAMA("llama"), QWEN2("qwen2"),
    /** A vocab-only file of an architecture the engine cannot run. */
    OTHER("other");

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
            case -1 -> OTHER;
            default -> throw new Lora4jException(-1, "unknown architecture code " + code);
        };
    }
}
