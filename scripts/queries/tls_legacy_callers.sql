-- Who still connects with TLS 1.0 or 1.1?
SELECT principal, tls_version, event_source, user_agent, cipher_suite,
       sum(requests) AS requests, max(last_seen) AS last_seen
FROM 'out/tls_legacy.parquet'
GROUP BY ALL
ORDER BY requests DESC, principal;
