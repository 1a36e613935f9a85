import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns } from '../testing/fuzz.ts';
import { JsonArrayStream, JsonStreamError, streamJsonArray } from './json-stream.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds the text in chunks cut at the given offsets; returns the elements and the rest. */
function run(text: string, path: readonly string[], cuts: readonly number[] = []) {
  const elements: unknown[] = [];
  const stream = new JsonArrayStream(path, (e) => elements.push(e));
  const data = bytes(text);
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    stream.write(data.subarray(from, cut));
    from = cut;
  }
  stream.write(data.subarray(from));
  return { elements, rest: stream.end() };
}

describe('JsonArrayStream', () => {
  it('hands over a Kubernetes list page item by item and keeps its metadata', () => {
    const page = {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '42', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' },
      items: [
        { metadata: { name: 'a', namespace: 'ml', annotations: { 'x/y': 'with ] and } and , and \\" inside' } } },
        { metadata: { name: 'b', namespace: 'ml', labels: { model: 'llama-三' } }, spec: { nodeName: 'gpu-1' } },
      ],
    };
    const text = JSON.stringify(page, null, 1);
    const { elements, rest } = run(text, ['items']);
    expect(elements).toEqual(page.items);
    expect(rest).toEqual({ ...page, items: [] });
  });

  it('finds a nested array (a Prometheus answer) and ignores arrays of the same name elsewhere', () => {
    const answer = {
      status: 'success',
      other: { result: [1, 2] },
      data: {
        resultType: 'matrix',
        result: [
          { metric: { pod: 'p' }, values: [[1700000000.5, '0.25']] },
          { metric: { pod: 'q' }, values: [] },
        ],
      },
    };
    const { elements, rest } = run(JSON.stringify(answer), ['data', 'result']);
    expect(elements).toEqual(answer.data.result);
    expect(rest).toEqual({ ...answer, data: { resultType: 'matrix', result: [] } });
  });

  it('cuts scalar elements, empty arrays and a root array', () => {
    expect(run('{"items":[]}', ['items'])).toEqual({ elements: [], rest: { items: [] } });
    expect(run('{"items":[1, "two" ,null,true,{"a":[]}]}', ['items']).elements).toEqual([
      1,
      'two',
      null,
      true,
      { a: [] },
    ]);
    expect(run('[ {"a":1}, {"b":2} ]', []).elements).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('returns the whole document when the array is absent (an error Status)', () => {
    const status = { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 };
    expect(run(JSON.stringify(status), ['items'])).toEqual({ elements: [], rest: status });
  });

  it('gives the same result whatever the chunking (property)', () => {
    const doc = fc.record({
      metadata: fc.dictionary(fc.string(), fc.jsonValue()),
      items: fc.array(fc.jsonValue(), { maxLength: 8 }),
      tail: fc.jsonValue(),
    });
    fc.assert(
      fc.property(doc, fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (d, rawCuts, pretty) => {
        const text = pretty ? JSON.stringify(d, null, 2) : JSON.stringify(d);
        const length = bytes(text).length;
        const cuts = rawCuts.map((c) => (length === 0 ? 0 : c % length));
        const { elements, rest } = run(text, ['items'], cuts);
        const expected = JSON.parse(text) as { items: unknown[] };
        expect(elements).toEqual(expected.items);
        expect(rest).toEqual({ ...expected, items: [] });
      }),
      fuzzRuns(400),
    );
  });

  it('survives one-byte chunks through escapes and multi-byte characters', () => {
    const doc = { items: ['\\"', 'é😀', { k: '"],[{' }], metadata: { continue: 'a\\b' } };
    const text = JSON.stringify(doc);
    const cuts = Array.from({ length: bytes(text).length }, (_, i) => i);
    expect(run(text, ['items'], cuts)).toEqual({ elements: doc.items, rest: { ...doc, items: [] } });
  });

  it('reports a truncated document or a malformed element instead of returning part of it', () => {
    expect(() => run('{"items":[{"a":1},{"b":', ['items'])).toThrow(JsonStreamError);
    expect(() => run('{"items":[{"a":1},{b:2}]}', ['items'])).toThrow(/malformed JSON in element 1/);
    expect(() => run('{"metadata":{"x":}, "items":[]}', ['items'])).toThrow(/malformed JSON/);
  });

  it('rejects missing and trailing elements, as JSON.parse does', () => {
    for (const text of ['{"items":[1,,2]}', '{"items":[,1]}', '{"items":[1,]}', '{"items":[,]}', '[1,,2]']) {
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
      expect(() => run(text, text.startsWith('[') ? [] : ['items']), text).toThrow(JsonStreamError);
    }
    expect(run('{"items":[ 1 , 2 ]}', ['items']).elements).toEqual([1, 2]);
  });

  it("rejects a repeated key on the array's path (JSON.parse would keep the last, handed over too late)", () => {
    expect(() => run('{"items":[1],"items":[2]}', ['items'])).toThrow(/"items" of the streamed array repeats/);
    expect(() => run('{"data":{"result":[1]},"data":{"result":[2]}}', ['data', 'result'])).toThrow(/"data"/);
    expect(() => run('{"items":[1],"items":null}', ['items'])).toThrow(JsonStreamError);
    // Before the array, or off its path, a repeated key is JSON.parse's to settle.
    expect(run('{"items":0,"items":[2]}', ['items'])).toEqual({ elements: [2], rest: { items: [] } });
    expect(run('{"data":{"result":[1]},"other":{"result":2,"result":3}}', ['data', 'result']).elements).toEqual([1]);
  });

  it('agrees with JSON.parse on mangled documents: the same values, or an error where it throws (property)', () => {
    // Documents written token by token, with the slips a broken or hostile server makes: missing, doubled and
    // trailing commas, repeated keys, then a few bytes inserted or removed anywhere.
    const element = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v));
    const separator = fc.constantFrom(',', ',', ',', ' , ', ',,', '', ' ');
    const items = fc
      .record({
        elements: fc.array(fc.tuple(element, separator), { maxLength: 5 }),
        leading: fc.constantFrom('', '', ',', ' '),
        trailing: fc.constantFrom('', '', ',', ' '),
      })
      .map(({ elements, leading, trailing }) => {
        const body = elements.map(([e, sep], i) => (i === 0 ? e : sep + e)).join('');
        return `[${leading}${body}${trailing}]`;
      });
    const member = fc.oneof(
      items.map((array) => `"items":${array}`),
      element.map((value) => `"items":${value}`),
      fc.tuple(fc.string({ maxLength: 4 }), element).map(([k, v]) => `${JSON.stringify(k)}:${v}`),
    );
    const mutation = fc.record({
      at: fc.nat(),
      remove: fc.nat({ max: 2 }),
      insert: fc.stringMatching(/^[[\]{},:" 1n]{0,2}$/),
    });
    fc.assert(
      fc.property(
        fc.array(member, { minLength: 1, maxLength: 4 }),
        fc.array(mutation, { maxLength: 2 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (members, mutations, rawCuts) => {
          let text = `{${members.join(',')}}`;
          for (const m of mutations) {
            const at = m.at % (text.length + 1);
            text = text.slice(0, at) + m.insert + text.slice(at + m.remove);
          }
          const length = bytes(text).length;
          const cuts = rawCuts.map((c) => (length === 0 ? 0 : c % length));
          let expected: unknown;
          try {
            expected = JSON.parse(text);
          } catch {
            expect(() => run(text, ['items'], cuts)).toThrow(JsonStreamError);
            return;
          }
          let got: ReturnType<typeof run>;
          try {
            got = run(text, ['items'], cuts);
          } catch (error) {
            // The one valid document it refuses: a repeated "items" after the array.
            expect((error as Error).message).toMatch(/"items" of the streamed array repeats/);
            return;
          }
          const object = expected !== null && typeof expected === 'object' && !Array.isArray(expected);
          const array = object ? (expected as Record<string, unknown>).items : undefined;
          if (Array.isArray(array)) {
            expect(got.elements).toEqual(array);
            expect(got.rest).toEqual({ ...(expected as object), items: [] });
          } else {
            expect(got.elements).toEqual([]);
            expect(got.rest).toEqual(expected);
          }
        },
      ),
      fuzzRuns(1500),
    );
  });

  it('reads an async body', async () => {
    async function* body() {
      yield bytes('{"items":[{"a"');
      await Promise.resolve(); // the next chunk arrives later
      yield bytes(':1},{"a":2}],"metadata":{"resourceVersion":"7"}}');
    }
    const seen: unknown[] = [];
    const rest = await streamJsonArray(body(), ['items'], (e) => seen.push(e));
    expect(seen).toEqual([{ a: 1 }, { a: 2 }]);
    expect(rest).toEqual({ items: [], metadata: { resourceVersion: '7' } });
  });
});
