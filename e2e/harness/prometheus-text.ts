// Reads a Prometheus text exposition (version 0.0.4) into `series → value`, the series written as
// the exposition writes it: `name{label="value",…}`.
export type Samples = Map<string, number>;

export function parsePrometheusText(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Scrapes `url` and parses it; also returns the Content-Type. */
export async function scrape(url: string): Promise<{ samples: Samples; contentType: string | null; text: string }> {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return { samples: parsePrometheusText(text), contentType: response.headers.get('content-type'), text };
}

/** after − before for one series (a series absent before counts as 0). */
export const delta = (before: Samples, after: Samples, series: string): number => (after.get(series) ?? 0) - (before.get(series) ?? 0);
