-- Who calls KMS hardest, and when is their busiest second (symmetric operations)?
WITH calls AS (
    SELECT principal, sum(calls) AS calls, min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM 'out/kms_calls.parquet'
    GROUP BY principal
), peaks AS (
    SELECT principal, max(peak_rps) AS peak_rps, arg_max(peak_second, peak_rps) AS peak_second,
           sum(throttled) AS throttled
    FROM 'out/kms_rates.parquet'
    WHERE scope = 'principal'
    GROUP BY principal
)
SELECT c.principal, c.calls, p.peak_rps, p.peak_second, p.throttled, c.first_seen, c.last_seen
FROM calls c LEFT JOIN peaks p USING (principal)
ORDER BY c.calls DESC, c.principal
LIMIT 10;
