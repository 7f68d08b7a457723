package io.lora4j.train;

import io.lora4j.train.data.DataRecord;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.DatasetFormatException;
import io.lora4j.train.data.RecordShape;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The classes of a classifier: the distinct labels of its training data, sorted (integer labels
 * by value, so labels 0…n-1 are their own class index, as in Hugging Face; string labels
 * alphabetically). Class k is row k of the head.
 */
public final class ClassLabels {
    private final List<String> names;
    private final Map<String, Integer> index = new HashMap<>();

    /** Labels in class order; at least two, distinct. */
    public ClassLabels(List<String> names) {
        this.names = List.copyOf(names);
        if (this.names.size() < 2) {
            throw new IllegalArgumentException("a classifier needs at least two labels, got " + this.names);
        }
        for (int k = 0; k < this.names.size(); k++) {
            if (index.put(this.names.get(k), k) != null) {
                throw new IllegalArgumentException("label '" + this.names.get(k) + "' appears twice");
            }
        }
    }

    /** The labels of a text/label dataset. All labels must be strings, or all integers. */
    public static ClassLabels of(Dataset dataset) {
        if (dataset.shape() != RecordShape.CLASSIFICATION) {
            throw new IllegalArgumentException(dataset.name() + " holds " + dataset.shape()
                    + " records; classification needs {\"text\",\"label\"} records");
        }
        DataRecord first = dataset.get(0);
        boolean integers = first.hasIntegerLabel();
        TreeSet<String> labels = new TreeSet<>(integers ? Comparator.comparingLong(Long::parseLong)
                : Comparator.<String>naturalOrder());
        for (DataRecord r : dataset) {
            if (r.hasIntegerLabel() != integers) {
                throw new DatasetFormatException(r.source(), r.line(), "label " + (integers ? "'" + r.label() + "' is a "
                        + "string" : r.label() + " is an integer") + ", but " + first.location() + " has "
                        + (integers ? "an integer" : "a string") + " label; all labels must be strings, or all integers");
            }
            labels.add(r.label());
        }
        if (labels.size() < 2) {
            throw new IllegalArgumentException(dataset.name() + ": every record has the label '" + labels.first()
                    + "'; classification needs at least two different labels");
        }
        return new ClassLabels(List.copyOf(labels));
    }

    public List<String> names() {
        return names;
    }

    public int size() {
        return names.size();
    }

    public String name(int k) {
        return names.get(k);
    }

    /** The class of a record's label; a label the classifier does not know is an error naming the record. */
    public int indexOf(DataRecord record) {
        Integer k = index.get(record.label());
        if (k == null) {
            throw new DatasetFormatException(record.source(), record.line(), "label '" + record.label()
                    + "' is not one of the classifier's labels " + names);
        }
        return k;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassLabels other && names.equals(other.names);
    }

    @Override
    public int hashCode() {
        return names.hashCode();
    }

    @Override
    public String toString() {
        return names.toString();
    }
}
