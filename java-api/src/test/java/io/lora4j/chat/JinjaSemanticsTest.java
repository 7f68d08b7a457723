package io.lora4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The jinja2 features Hugging Face templates rely on, each checked against the output Python's
 * jinja2 3.1 gives in HF's sandbox configuration (trim_blocks, lstrip_blocks, loopcontrols).
 */
class JinjaSemanticsTest {

  private static final List<ChatMessage> CHAT = List.of(
    ChatMessage.system("  Be nice. "), ChatMessage.user("Hi"), ChatMessage.assistant("Hello"));

  private static String render(String template) {
    return ChatTemplate.compile(template, "<s>", "</s>").render(CHAT, true);
  }

  private static String render(String template, String name, Object value) {
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put(name, value);
    return ChatTemplate.compile(template, "<s>", "</s>").render(CHAT, true, vars);
  }

  @Test
  void namespaceAssignedInsideLoops() {
    assertEquals("3:sua", render("""
      {%- set ns = namespace(count=0, initials='') %}
      {%- for m in messages %}
          {%- set ns.count = ns.count + 1 %}
          {%- set ns.initials = ns.initials ~ m.role[0] %}
      {%- endfor %}
      {{- ns.count }}:{{ ns.initials }}"""));
  }

  @Test
  void setInsideLoopDoesNotLeak() {
    assertEquals("outer", render("{% set x = 'outer' %}{% for m in messages %}{% set x = m.role %}{% endfor %}{{ x }}"));
  }

  @Test
  void loopControlsAndLoopVariables() {
    assertEquals("system", render("{% for m in messages %}{% if loop.index0 == 1 %}{% break %}{% endif %}{{ m.role }}{% endfor %}"));
    assertEquals("user,assistant!", render(
      "{% for m in messages %}{% if loop.first %}{% continue %}{% endif %}{{ m.role }}{{ '!' if loop.last else ',' }}{% endfor %}"));
    assertEquals("1/3 2/3 3/3", render("{% for m in messages %}{{ loop.index }}/{{ loop.length }}{% if not loop.last %} {% endif %}{% endfor %}"));
  }

  @Test
  void loopFilterAndElse() {
    assertEquals("user assistant 2", render(
      "{% for m in messages if m.role != 'system' %}{{ m.role }} {% if loop.last %}{{ loop.length }}{% endif %}{% endfor %}"));
    assertEquals("none", render("{% for m in messages if m.role == 'tool' %}{{ m.role }}{% else %}none{% endfor %}"));
    assertEquals("xx", render("{% for m in messages[1:] %}x{% else %}none{% endfor %}"));
  }

  @Test
  void slicesWithAStep() {
    assertEquals("assistant,user,system|fedcba|ace|fdb|[5, 3, 1]|[3, 2, 1]", render(
      "{{ messages[::-1] | map(attribute='role') | join(',') }}|{{ 'abcdef'[::-1] }}|{{ 'abcdef'[::2] }}|"
        + "{{ 'abcdef'[-1:-7:-2] }}|{{ [1, 2, 3, 4, 5][::-2] }}|{{ [1, 2, 3][5::-1] }}"));
    // Qwen3 finds the last user query walking the conversation backwards.
    assertEquals("1", render("""
      {%- set ns = namespace(found=false, last=messages|length - 1) %}
      {%- for m in messages[::-1] %}
          {%- if not ns.found and m.role == 'user' %}
              {%- set ns.found = true %}
              {%- set ns.last = (messages|length - 1) - loop.index0 %}
          {%- endif %}
      {%- endfor %}
      {{- ns.last }}"""));
  }

  @Test
  void keywordArgumentsTakeWholeExpressions() {
    assertEquals("2|yes", render(
      "{% set ns = namespace(n=messages|length - 1, s='y' ~ 'es' if true else 'no') %}{{ ns.n }}|{{ ns.s }}"));
  }

  @Test
  void stringMethods() {
    assertEquals("[Be nice.][Be nice. ][  Be nice.]", render(
      "[{{ messages[0].content.strip() }}][{{ messages[0].content.lstrip() }}][{{ messages[0].content.rstrip() }}]"));
    assertEquals("hi|True|True|False", render(
      "{{ 'xxhixx'.strip('x') }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'abc'.startswith('b') }}"));
    assertEquals("['a', 'b', '', 'c', ''] ['a', 'b'] ['a', 'b,c'] ['a.b']", render(
      "{{ 'a.b..c.'.split('.') }} {{ '  a \\n b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a.b'.split('|') }}"));
    assertEquals("ABC abc bba Hello World Foo-Bar", render(
      "{{ 'aBc'.upper() }} {{ 'aBc'.lower() }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'hello world foo-bar'.title() }}"));
    assertEquals("l|o|He", render("{{ messages[2].content[2] }}|{{ messages[2].content[-1] }}|{{ messages[2].content[:2] }}"));
  }

  @Test
  void filters() {
    assertEquals("Be nice.|3|2|Hi", render(
      "{{ messages[0].content | trim }}|{{ messages | length }}|{{ messages[1:] | length }}|{{ (messages | selectattr('role', 'equalto', 'user') | first).content }}"));
    assertEquals("system,user,assistant", render("{{ messages | map(attribute='role') | join(',') }}"));
  }

  @Test
  void tojsonWritesPythonJsonDumps() {
    Map<String, Object> tool = new LinkedHashMap<>();
    tool.put("name", "get_weather");
    tool.put("required", List.of("city"));
    tool.put("strict", true);
    tool.put("default", null);
    tool.put("temperature", 0.5);
    tool.put("note", "naïve \"quoted\"\n");
    assertEquals("{\"name\": \"get_weather\", \"required\": [\"city\"], \"strict\": true, \"default\": null,"
      + " \"temperature\": 0.5, \"note\": \"naïve \\\"quoted\\\"\\n\"}", render("{{ tool | tojson }}", "tool", tool));
    assertEquals("{\n  \"name\": \"get_weather\",\n  \"required\": [\n    \"city\"\n  ],\n  \"strict\": true,\n"
      + "  \"default\": null,\n  \"temperature\": 0.5,\n  \"note\": \"naïve \\\"quoted\\\"\\n\"\n}",
      render("{{ tool | tojson(indent=2) }}", "tool", tool));
    assertEquals("{\"default\":null,\"name\":\"get_weather\",\"note\":\"na\\u00efve \\\"quoted\\\"\\n\",\"required\":[\"city\"],"
      + "\"strict\":true,\"temperature\":0.5}",
      render("{{ tool | tojson(ensure_ascii=true, separators=(',', ':'), sort_keys=true) }}", "tool", tool));
    assertEquals("[1, 2.5, 1e+16, 1e-05, {}, []]", render("{{ [1, 2.5, 1e16, 0.00001, {}, []] | tojson }}"));
  }

  @Test
  void dictItemsAndGet() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("a", 1);
    d.put("b", "x");
    assertEquals("a=1;b=x;|1|z", render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.get('a') }}|{{ d.get('q', 'z') }}", "d", d));
    assertEquals("a,b,", render("{% for k in d %}{{ k }},{% endfor %}", "d", d));
  }

  @Test
  void definedNoneAndDefault() {
    assertEquals("no|F|d|N|T", render("""
      {{- 'yes' if foo is defined else 'no' }}|{{ 'T' if messages[0].tool_calls else 'F' }}|
      {{- foo | default('d') }}|{{ 'N' if tools is none }}|{{ 'T' if tools is not defined or tools is none }}""",
      "tools", null));
  }

  @Test
  void notBindsLooserThanTestsAndComparisons() {
    assertEquals("T|T|F|T", render(
      "{{ 'T' if not foo is defined else 'F' }}|{{ 'T' if not messages[0].role == 'user' else 'F' }}|"
        + "{{ 'T' if not 'Hi' in messages[1].content else 'F' }}|{{ 'T' if not false and not none else 'F' }}"));
  }

  @Test
  void stringLiteralsTakePythonEscapes() {
    // A backslash-newline continues the literal; hex, unicode and octal escapes decode; unknown ones stay.
    assertEquals("ab|\t\u00e9\u00e9A|'\"|\\d", render("{{ 'a\\\nb' }}|{{ '\\t\\xe9\\u00e9\\101' }}|{{ \"'\\\"\" }}|{{ '\\d' }}"));
  }

  @Test
  void valuesPrintAsPython() {
    assertEquals("True False [1, 'a', None, True] {'k': False} 2.0 -4", render(
      "{{ true }} {{ false }} {{ [1, 'a', none, true] }} {{ {'k': false} }} {{ 10 / 5 }} {{ -7 // 2 }}"));
  }

  @Test
  void messageTextIsNotReinterpreted() {
    ChatTemplate t = ChatTemplate.compile("{% for m in messages %}{{ m.content }}{% endfor %}", "", "");
    assertEquals("{{ 7 * 6 }} {% raw %}", t.render(List.of(ChatMessage.user("{{ 7 * 6 }} {% raw %}")), false));
  }

  @Test
  void whitespaceLikeJinja2() {
    // lstrip_blocks only strips indentation before a tag, not text on the same line.
    assertEquals("a, b", render("{% for x in ['a', 'b'] %}{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}"));
    // trim_blocks drops the newline after a block tag, never after {{ }}.
    assertEquals("system\nuser\nassistant\n", render("{% for m in messages %}\n{{ m.role }}\n{% endfor %}"));
    assertEquals("  x\ny", render("  {% if true %}\n  x\n  {% endif %}\ny"));
    // {%+ keeps the indentation; a single trailing newline of the source is dropped.
    assertEquals("a\n    k", render("a\n    {%+ if true %}k{% endif %}\n"));
    assertEquals("ab   ", render("{{- 'a' -}}\n   {{ 'b' }}   "));
  }

  @Test
  void strftimeNowReadsTheClock() {
    Clock clock = Clock.fixed(Instant.parse("2024-07-26T13:05:09Z"), ZoneId.of("UTC"));
    ChatTemplate t = ChatTemplate.builder("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B') }}")
      .clock(clock).build();
    assertEquals("26 Jul 2024|2024-07-26 13:05:09 Friday July", t.render(List.of(), false));
  }

  @Test
  void extraVariablesFromBuilderAndCall() {
    ChatTemplate t = ChatTemplate.builder("{{ bos_token }}{{ greeting }} {{ name }}{{ eos_token }}")
      .bosToken("<s>").eosToken("</s>").variable("greeting", "Hello").variable("name", "builder").build();
    assertEquals("<s>Hello builder</s>", t.render(List.of(), false));
    assertEquals("<s>Hello call</s>", t.render(List.of(), false, Map.of("name", "call")));
  }

  @Test
  void generationBlockRendersItsBody() {
    ChatTemplate t = ChatTemplate.compile(
      "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}!{% endgeneration %}{% endif %}{% endfor %}", "", "");
    assertEquals("Hello!", t.render(CHAT, false));
  }
}
