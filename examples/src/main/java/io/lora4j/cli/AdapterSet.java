package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.ScaledAdapter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The adapters named by --lora flags, loaded for one command and closed with it. */
record AdapterSet(List<Adapter> adapters, float scale) implements AutoCloseable {
    static AdapterSet load(Model model, List<Path> paths, float scale) {
        List<Adapter> loaded = new ArrayList<>();
        try {
            for (Path p : paths) loaded.add(Adapter.load(model, p));
        } catch (RuntimeException e) {
            loaded.forEach(Adapter::close);
            throw e;
        }
        return new AdapterSet(List.copyOf(loaded), scale);
    }

    List<ScaledAdapter> scaled() {
        return adapters.stream().map(a -> new ScaledAdapter(a, scale)).toList();
    }

    @Override
    public void close() {
        adapters.forEach(Adapter::close);
    }
}
