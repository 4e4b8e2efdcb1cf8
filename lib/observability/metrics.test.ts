// The recording functions against prom-client's real registry, read back as Prometheus text.
import { beforeAll, describe, expect, it } from 'vitest';
import { countAgentRequest, countBackchannelLogout, countLogin, countProxyRequest, countRefresh, countStoreError, enableMetrics, metricsEnabled, observeUpstreamSeconds, renderMetrics } from './metrics';

const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('metrics', () => {
  beforeAll(() => { enableMetrics(); });

  it('records the contract names and labels, by exactly the amounts counted', async () => {
    expect(metricsEnabled()).toBe(true);
    countAgentRequest('login_end', 200);
    countAgentRequest('login_end', 200);
    countProxyRequest('/api/orders', 502);
    observeUpstreamSeconds('/api/orders', 0.02);
    observeUpstreamSeconds('/api/orders', 3);
    countRefresh('invalid_grant');
    countRefresh('coalesced');
    countLogin('failure');
    countStoreError();
    countBackchannelLogout('rejected');
    const { contentType, body } = await renderMetrics();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(body, 'nth_requests_total{component="agent",route="login_end",status="200"}')).toBe(2);
    expect(sample(body, 'nth_requests_total{component="proxy",route="/api/orders",status="502"}')).toBe(1);
    expect(sample(body, 'nth_upstream_duration_seconds_count{route="/api/orders"}')).toBe(2);
    expect(sample(body, 'nth_upstream_duration_seconds_bucket{le="0.025",route="/api/orders"}')).toBe(1);
    expect(sample(body, 'nth_upstream_duration_seconds_sum{route="/api/orders"}')).toBeCloseTo(3.02);
    expect(sample(body, 'nth_refresh_total{result="invalid_grant"}')).toBe(1);
    expect(sample(body, 'nth_refresh_total{result="coalesced"}')).toBe(1);
    expect(sample(body, 'nth_logins_total{result="failure"}')).toBe(1);
    expect(sample(body, 'nth_store_errors_total')).toBe(1);
    expect(sample(body, 'nth_backchannel_logouts_total{result="rejected"}')).toBe(1);
  });
});
