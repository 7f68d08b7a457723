package io.lora4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lora4j.Hparams;
import io.lora4j.Model;
import io.lora4j.lora.Adapter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A training checkpoint: {@code checkpoints/step-N/} holding the adapter (or the full model),
 * the optimizer state and {@code trainer_state.json} (step, data position, seed, model
 * fingerprint). It is written into a temporary directory and renamed into place, so a process
 * killed mid-save leaves the previous checkpoint as the latest complete one.
 */
public record Checkpoint(Path directory, int step, int epoch, int batchInEpoch, JsonNode state) {
    static final String ADAPTER = "adapter.gguf";
    static final String MODEL = "model.gguf";
    static final String OPTIMIZER = "optimizer.gguf";
    static final String STATE = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public Path adapterFile() {
        return directory.resolve(ADAPTER);
    }

    public Path modelFile() {
        return directory.resolve(MODEL);
    }

    public Path optimizerFile() {
        return directory.resolve(OPTIMIZER);
    }

    /** A short description of the model that a checkpoint must be resumed on. */
    static ObjectNode fingerprint(Model model) {
        Hparams h = model.hparams();
        ObjectNode f = JSON.createObjectNode();
        f.put("architecture", h.architecture().ggufName());
        f.put("n_embd", h.embeddingLength());
        f.put("n_layer", h.blockCount());
        f.put("n_head", h.headCount());
        f.put("n_head_kv", h.headCountKv());
        f.put("n_ff", h.feedForwardLength());
        f.put("n_vocab", h.vocabSize());
        f.put("tensor_bytes", model.tensorBytes());
        return f;
    }

    /**
     * Writes a checkpoint of {@code trainer} (and {@code adapter}, null for full fine-tuning)
     * under {@code root}/step-N atomically; {@code extra} fields are stored in the state file and
     * {@code extraFiles} writes any further files into the directory before it is renamed into place.
     */
    static Checkpoint save(Path root, int step, int epoch, int batchInEpoch, Model model, Adapter adapter,
                           NativeTrainer trainer, ObjectNode extra, Consumer<Path> extraFiles) {
        try {
            Files.createDirectories(root);
            Path tmp = Files.createTempDirectory(root, ".step-" + step + "-");
            try {
                if (adapter != null) adapter.save(tmp.resolve(ADAPTER));
                else trainer.saveModel(tmp.resolve(MODEL));
                trainer.saveState(tmp.resolve(OPTIMIZER));
                extraFiles.accept(tmp);
                ObjectNode state = extra.deepCopy();
                state.put("format", 1);
                state.put("step", step);
                state.put("epoch", epoch);
                state.put("batch_in_epoch", batchInEpoch);
                state.set("model", fingerprint(model));
                Files.writeString(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
                Path target = root.resolve("step-" + step);
                if (Files.exists(target)) deleteTree(target);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                return new Checkpoint(target, step, epoch, batchInEpoch, state);
            } catch (RuntimeException | IOException e) {
                deleteTree(tmp);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + step + " under " + root + ": " + e.getMessage(), e);
        }
    }

    /** Reads a checkpoint directory, checking it belongs to {@code model}. */
    public static Checkpoint load(Path dir, Model model) {
        Path stateFile = dir.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new IllegalArgumentException(dir + " is not a lora4j checkpoint (no " + STATE + ")");
        }
        try {
            JsonNode state = JSON.readTree(stateFile.toFile());
            if (state.path("format").asInt() != 1) throw new IllegalArgumentException(stateFile + ": unknown format");
            JsonNode expected = fingerprint(model);
            if (!expected.toString().equals(state.path("model").toString())) {
                throw new IllegalArgumentException("checkpoint " + dir + " was made with another model: "
                        + state.path("model") + ", this model is " + expected);
            }
            return new Checkpoint(dir, state.path("step").asInt(), state.path("epoch").asInt(),
                    state.path("batch_in_epoch").asInt(), state);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + stateFile + ": " + e.getMessage(), e);
        }
    }

    /** The checkpoint with the highest step under {@code root}, if any. */
    public static Optional<Path> latest(Path root) {
        if (!Files.isDirectory(root)) return Optional.empty();
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(p -> p.getFileName().toString().matches("step-\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve(STATE)))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(5))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
