-- Which buckets would an S3 Bucket Key (or a re-copy of old objects) relieve most?
SELECT s3_bucket, bucket_status,
       sum(object_arn_calls)                  AS object_arn_calls,
       sum(est_saved_calls)                   AS est_saved_calls,
       round(sum(est_saved_usd_per_month), 2) AS est_saved_usd_per_month
FROM 'out/kms_bucket_keys.parquet'
WHERE bucket_status NOT IN ('bucket_key_on', 'dsse_kms')
GROUP BY ALL
ORDER BY est_saved_calls DESC, s3_bucket;
