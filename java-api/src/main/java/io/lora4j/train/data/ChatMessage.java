package io.lora4j.train.data;

import java.util.Objects;
import java.util.Set;

/** One message of a {@code messages} record. */
public record ChatMessage(String role, String content) {

    /** The roles a {@code messages} record may use. */
    public static final Set<String> ROLES = Set.of("system", "user", "assistant");

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown role '" + role + "' (expected system, user or assistant)");
        }
    }

    public boolean isAssistant() {
        return role.equals("assistant");
    }
}
