package io.lora4j.tokenizer;

/**
 * One stage of a pre-tokenizer: refines a segmentation of a code point sequence. The text is
 * already cut into consecutive chunks (their lengths in code points); a rule cuts each chunk
 * further and never merges across chunk boundaries, like llama.cpp's unicode_regex_split.
 */
interface SplitRule {

    /**
     * @param cps    the whole text as code points
     * @param chunks lengths of the current chunks, covering cps in order
     * @param out    receives the lengths of the refined chunks (no zero lengths)
     */
    void split(int[] cps, IntList chunks, IntList out);
}
