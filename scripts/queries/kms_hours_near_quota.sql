-- Which hours came closest to the account's regional KMS quota?
SELECT hour, account_id, region, peak_rps, peak_second, quota_rps,
       round(100 * quota_utilization, 3) AS pct_of_quota,
       p99_rps, calls, throttled
FROM 'out/kms_rates.parquet'
WHERE scope = 'account_region'
ORDER BY quota_utilization DESC, hour
LIMIT 10;
