-- Who still signs S3 requests with SigV2, with which client, and what must they upgrade?
SELECT principal, ua_family, ua_version, sigv4_min_version, auth_method, evidence,
       upgrade_advice,
       sum(requests)           AS requests,
       min(first_seen)         AS first_seen,
       max(last_seen)          AS last_seen,
       list(DISTINCT bucket ORDER BY bucket) AS buckets
FROM 'out/sigv2_requests.parquet'
GROUP BY ALL
ORDER BY requests DESC, principal;
