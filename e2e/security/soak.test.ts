// The soak's short version (`npm run soak` is the 60 s one): steady concurrency through the Node
// transport with access tokens living 4 s, so refreshes happen during the run; no non-2xx answer,
// bounded memory.
import { expect, it } from 'vitest';
import { runSoak } from '../../scripts/soak';

it('[ASVS 5.0 V13 (resource limits)][RFC 6749 §6] 8 s at concurrency 10, 3 sessions, 4 s access tokens: every answer 2xx, refreshes seen at the IdP, RSS bounded', async () => {
  const report = await runSoak({ seconds: 8, concurrency: 10, sessions: 3, accessTokenTtl: 4, rssGrowthMb: 100 });
  expect(report.failures).toEqual([]);
  expect(report.nonOk + report.warmup.nonOk).toBe(0);
  expect(report.requests).toBeGreaterThan(100);
  // Each session's 4 s token is refreshed at least once in 8 s.
  expect(report.refreshGrants).toBeGreaterThanOrEqual(report.sessions);
  expect(report.rssMb.end - report.rssMb.start).toBeLessThanOrEqual(100);
}, 90_000);
