-- A mail merge's copies are owed in the outbox, one row per recipient (kind 'mail_merge'),
-- and delivered by the one deliverer: what became of a copy is its outbox row's status, so
-- the recipients' own sending columns go. The text stays here, read when the copy is sent.
ALTER TABLE mail_merge_recipients ADD COLUMN outbox_id INTEGER REFERENCES outbox(id);

-- Runs recorded before: each recipient gets the outbox row that says what its copy became,
-- numbered after the outbox's last row so that each recipient knows its own.
CREATE TEMP TABLE copies AS
SELECT merge_id, patient_id,
       (SELECT coalesce(max(id), 0) FROM outbox)
           + row_number() OVER (ORDER BY merge_id, position) AS outbox_id
FROM mail_merge_recipients;

-- A copy being sent when the bot stopped may have arrived: uncertain, as it was never sent
-- again. A blocked one keeps Telegram's "Forbidden: ..." answer, which is how a blocked
-- copy is told from another refusal (storage.missions).
INSERT INTO outbox (id, kind, chat_id, payload, created_at, status, attempts, message_id,
                    finished_at, error)
SELECT c.outbox_id, 'mail_merge', r.patient_id, json_object('merge_id', r.merge_id),
       m.created_at,
       CASE r.status WHEN 'pending' THEN 'pending'
                     WHEN 'sent' THEN 'sent'
                     WHEN 'blocked' THEN 'failed'
                     WHEN 'failed' THEN 'failed'
                     ELSE 'uncertain' END,
       r.attempts, r.message_id,
       CASE WHEN r.status != 'pending' THEN coalesce(r.updated_at, m.created_at) END,
       CASE WHEN r.status = 'blocked' AND coalesce(r.error, '') NOT LIKE 'Forbidden:%'
            THEN 'Forbidden: ' || coalesce(r.error, 'blocked')
            WHEN r.status = 'claimed' THEN 'the bot stopped while sending'
            ELSE r.error END
FROM mail_merge_recipients r
JOIN copies c ON c.merge_id = r.merge_id AND c.patient_id = r.patient_id
JOIN mail_merges m ON m.id = r.merge_id
ORDER BY c.outbox_id;

UPDATE mail_merge_recipients SET outbox_id = c.outbox_id
FROM copies c
WHERE c.merge_id = mail_merge_recipients.merge_id
  AND c.patient_id = mail_merge_recipients.patient_id;

DROP TABLE copies;

DROP INDEX mail_merge_recipients_by_status;
ALTER TABLE mail_merge_recipients DROP COLUMN status;
ALTER TABLE mail_merge_recipients DROP COLUMN attempts;
ALTER TABLE mail_merge_recipients DROP COLUMN message_id;
ALTER TABLE mail_merge_recipients DROP COLUMN error;
ALTER TABLE mail_merge_recipients DROP COLUMN updated_at;
