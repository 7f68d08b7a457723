package io.lora4j.train.data;

import java.util.List;

/** The kinds of JSONL record a dataset can hold; all records of one file share one shape. */
public enum RecordShape {
    /** {@code {"text": …}}: language modelling, every token trained. */
    TEXT("text", List.of("text")),
    /** {@code {"prompt": …, "completion": …}}: only the completion (and EOS) trained. */
    PROMPT_COMPLETION("prompt/completion", List.of("prompt", "completion")),
    /** {@code {"messages": [{"role", "content"}, …]}}: rendered with the chat template, assistant turns trained. */
    MESSAGES("messages", List.of("messages")),
    /** {@code {"prompt": …}} plus any fields a reward function needs (e.g. {@code "answer"}): RL prompts. */
    PROMPT("prompt", List.of("prompt")),
    /** {@code {"prompt": …, "chosen": …, "rejected": …}}: preference pairs for DPO. */
    PREFERENCE("preference", List.of("prompt", "chosen", "rejected")),
    /** {@code {"text": …, "label": …}}: sequence classification; the label is a string or an integer. */
    CLASSIFICATION("text/label", List.of("text", "label"));

    private final String label;
    private final List<String> requiredFields;

    RecordShape(String label, List<String> requiredFields) {
        this.label = label;
        this.requiredFields = requiredFields;
    }

    /** The fields a record of this shape must have. */
    public List<String> requiredFields() {
        return requiredFields;
    }

    /** The shape a record's field names indicate, or null when they indicate none. */
    static RecordShape detect(java.util.Set<String> fields) {
        if (fields.contains("messages")) return MESSAGES;
        if (fields.contains("chosen") || fields.contains("rejected")) return PREFERENCE;
        if (fields.contains("completion")) return PROMPT_COMPLETION;
        if (fields.contains("prompt")) return PROMPT;
        if (fields.contains("text") && fields.contains("label")) return CLASSIFICATION;
        if (fields.contains("text")) return TEXT;
        return null;
    }

    @Override
    public String toString() {
        return label;
    }
}
