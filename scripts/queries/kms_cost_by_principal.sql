-- What does each principal's KMS use cost a month, at the rate of the analysed span?
SELECT account_id, principal, calls, throttled,
       round(calls_per_day)       AS calls_per_day,
       round(usd_per_month, 2)    AS usd_per_month
FROM 'out/kms_cost.parquet'
WHERE scope = 'principal'
ORDER BY usd_per_month DESC, principal;
