-- 013_first_slow.sql - a first-playable pass that is slower than real
-- time says so: 1 while the pass expects (from the source's size and
-- frame rate) or has measured (its own pace) that it encodes less than a
-- second of video a second, so that a viewer starting now would catch up
-- with it. Its eta, in that case, is what is left at the measured pace.
-- Always 0 for ladder jobs.

ALTER TABLE jobs ADD COLUMN slow INTEGER NOT NULL DEFAULT 0;
