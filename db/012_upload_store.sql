-- 012_upload_store.sql - tus uploads kept in the S3 media store instead of
-- a server's disk, so that the PATCH requests of one upload may land on
-- different servers. The bytes go to an S3 multipart upload of the key
-- uploads/<id>: its S3 upload id, the parts stored so far ("N:ETag" in
-- order, separated by spaces; numbers may skip), the last part number
-- handed out (each part is stored under a number no other request ever
-- gets, so a request that lost the lease cannot overwrite another's part)
-- and the tail (the bytes past the last part,
-- fewer than 5 MiB, kept as the object uploads/<id>.tail.<name>) say where
-- every confirmed byte is: offset = the parts' bytes + tail. One request at
-- a time writes an upload, across servers: the one holding its lease
-- (a random token, until a Unix time; an expired lease may be taken).
-- All of it is NULL, 0 or '' for uploads kept on local disk.

ALTER TABLE uploads ADD COLUMN s3_upload_id TEXT;
ALTER TABLE uploads ADD COLUMN s3_parts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN s3_etags TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN s3_next_part INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN s3_tail INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN s3_tail_name TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN lease_token TEXT;
ALTER TABLE uploads ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX uploads_s3 ON uploads(s3_upload_id);
