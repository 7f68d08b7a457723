package io.lora4j.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test oracle: a split rule that runs a llama.cpp pre-tokenizer regex with java.util.regex, the
 * way llama.cpp runs it with std::regex (unicode_regex_split_stl): every match and every gap
 * between matches becomes its own piece, within each chunk.
 *
 * <p>std::regex knows no Unicode classes, so llama.cpp matches \p{..} regexes against a
 * "collapsed" copy of the text in which every non-ASCII code point is replaced by one stand-in
 * character per class, and the regex's \p{N}, \p{L}, \p{P} become classes of the stand-in plus
 * the ASCII members. {@link Form#COLLAPSED} reproduces that (patterns use {@link #N}, {@link #L},
 * {@link #P}). {@link Form#RAW} matches the real code points, with non-ASCII whitespace replaced by
 * U+000B so that the ASCII-only {@code \s} still sees it. The production splitters are hand-written
 * scanners; the tests compare them with this.
 */
final class RegexSplitter implements SplitRule {

    enum Form { COLLAPSED, RAW }

    /** Collapsed \p{N}: the stand-in for non-ASCII numbers plus ASCII digits (inside a [...] class). */
    static final String N = "\\xD10-9";
    /** Collapsed \p{L}: the stand-in for non-ASCII letters plus ASCII letters. */
    static final String L = "\\xD2A-Za-z";
    /** Collapsed \p{P}: the stand-in for non-ASCII punctuation plus ASCII punctuation. */
    static final String P = "\\xD3\\x21-\\x23\\x25-\\x2A\\x2C-\\x2F\\x3A\\x3B\\x3F\\x40\\x5B-\\x5D\\x5F\\x7B\\x7D";

    private static final char WHITESPACE_STAND_IN = 0x0B;

    private final Pattern pattern;
    private final Form form;

    RegexSplitter(String regex, Form form) {
        this.pattern = Pattern.compile(regex);
        this.form = form;
    }

    @Override
    public void split(int[] cps, IntList chunks, IntList out) {
        if (form == Form.COLLAPSED) {
            splitCollapsed(cps, chunks, out);
        } else {
            splitRaw(cps, chunks, out);
        }
    }

    /** One stand-in char per code point, so char offsets are code point offsets. */
    private void splitCollapsed(int[] cps, IntList chunks, IntList out) {
        char[] text = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            text[i] = collapse(cps[i]);
        }
        Matcher m = pattern.matcher(java.nio.CharBuffer.wrap(text));
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            int last = start;
            m.region(start, end);
            while (m.find()) {
                if (m.start() > last) {
                    out.add(m.start() - last);
                }
                if (m.end() > m.start()) {
                    out.add(m.end() - m.start());
                }
                last = m.end();
            }
            if (last < end) {
                out.add(end - last);
            }
            start = end;
        }
    }

    /** Real code points in UTF-16; match offsets are mapped back to code point offsets. */
    private void splitRaw(int[] cps, IntList chunks, IntList out) {
        StringBuilder sb = new StringBuilder(cps.length + 16);
        int[] charOfCp = new int[cps.length + 1];
        for (int i = 0; i < cps.length; i++) {
            charOfCp[i] = sb.length();
            int cp = cps[i];
            sb.appendCodePoint(cp > 0x7F && CodepointFlags.isWhitespace(cp) ? WHITESPACE_STAND_IN : cp);
        }
        charOfCp[cps.length] = sb.length();
        Matcher m = pattern.matcher(sb);
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            int last = start;
            m.region(charOfCp[start], charOfCp[end]);
            int cp = start;
            while (m.find()) {
                int ms = cp + Character.codePointCount(sb, charOfCp[cp], m.start());
                int me = ms + Character.codePointCount(sb, m.start(), m.end());
                if (ms > last) {
                    out.add(ms - last);
                }
                if (me > ms) {
                    out.add(me - ms);
                }
                last = me;
                cp = me;
            }
            if (last < end) {
                out.add(end - last);
            }
            start = end;
        }
    }

    static char collapse(int cp) {
        if (cp < 0x80) {
            return (char) cp;
        }
        int flags = CodepointFlags.of(cp);
        if ((flags & CodepointFlags.WHITESPACE) != 0) {
            return WHITESPACE_STAND_IN;
        }
        return switch (flags) {
            case CodepointFlags.NUMBER -> 0xD1;
            case CodepointFlags.LETTER -> 0xD2;
            case CodepointFlags.PUNCTUATION -> 0xD3;
            case CodepointFlags.ACCENT_MARK -> 0xD4;
            case CodepointFlags.SYMBOL -> 0xD5;
            default -> 0xD0;
        };
    }
}
