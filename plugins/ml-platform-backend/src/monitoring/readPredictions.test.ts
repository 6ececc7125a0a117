import {
  PredictionSink,
  countRows,
  hasKpis,
  readPredictions,
} from './readPredictions';

function collect() {
  const seen: string[] = [];
  const sink: PredictionSink = {
    number: (output, value) => seen.push(`${output}=${value}`),
    category: (output, value) => seen.push(`${output}:${value}`),
    kpi: (name, value) => seen.push(`kpi ${name}=${value}`),
  };
  return { seen, sink };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('readPredictions', () => {
  it('reads records answers: rows, outputs per row, per-row KPIs', () => {
    const { seen, sink } = collect();
    const rows = readPredictions(
      'records',
      json({
        predictions: [
          { p: 0.2, churn: false, kpis: { revenue: 12.5, note: 'x' } },
          { p: 0.9, churn: true, scores: [0.1, 0.9] },
        ],
      }),
      sink,
    );
    expect(rows).toBe(2);
    expect(seen).toEqual([
      'p=0.2',
      'churn:false',
      'kpi revenue=12.5',
      'p=0.9',
      'churn:true',
    ]);
  });

  it('reads scalar predictions and event answers as records', () => {
    const { seen, sink } = collect();
    expect(
      readPredictions('event', json({ predictions: [1, 'a'] }), sink),
    ).toBe(2);
    expect(seen).toEqual(['predictions=1', 'predictions:a']);
  });

  it('reads V2 answers: rows from the shape, one value per row, KPIs in parameters', () => {
    const { seen, sink } = collect();
    const rows = readPredictions(
      'v2',
      json({
        outputs: [
          { name: 'p', shape: [2], datatype: 'FP64', data: [0.1, 0.6] },
          { name: 'label', shape: [2, 1], datatype: 'BYTES', data: ['a', 'b'] },
          {
            name: 'probs',
            shape: [2, 2],
            datatype: 'FP64',
            data: [1, 0, 0, 1],
          },
        ],
        parameters: { kpis: { revenue: 3 } },
      }),
      sink,
    );
    expect(rows).toBe(2);
    expect(seen).toEqual([
      'p=0.1',
      'p=0.6',
      'label:a',
      'label:b',
      'kpi revenue=3',
    ]);
  });

  it('gives up on what is not a prediction', () => {
    const { seen, sink } = collect();
    expect(
      readPredictions('v2', Buffer.from('not json'), sink),
    ).toBeUndefined();
    expect(
      readPredictions('records', json({ outputs: [] }), sink),
    ).toBeUndefined();
    expect(readPredictions('v2', json([1, 2]), sink)).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('counts rows without parsing, as reading would', () => {
    const cases: [string, unknown][] = [
      ['records', { predictions: [{ p: 0.1, s: 'a,[b]"c' }, { p: 0.2 }, 3] }],
      ['records', { predictions: [] }],
      [
        'records',
        {
          predictions: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      ['event', { predictions: ['x'] }],
      [
        'v2',
        {
          outputs: [{ name: 'p', shape: [12, 1], datatype: 'FP64', data: [] }],
        },
      ],
    ];
    for (const [route, answer] of cases) {
      const body = json(answer);
      const { sink } = collect();
      expect(countRows(route as any, body)).toBe(
        readPredictions(route as any, body, sink),
      );
    }
    expect(countRows('records', json({ outputs: [] }))).toBeUndefined();
    expect(countRows('v2', Buffer.from('{"shape": [}'))).toBeUndefined();
    expect(hasKpis(json({ predictions: [{ kpis: { a: 1 } }] }))).toBe(true);
    expect(hasKpis(json({ predictions: [1] }))).toBe(false);
  });
});
