-- Invoice numbers come from one counter a year, moved on by the transaction that issues the
-- invoice: two issuers can never read the same last number, whatever serialises them or not.
CREATE TABLE invoice_counters (
    year  INTEGER PRIMARY KEY,
    last  INTEGER NOT NULL CHECK (last > 0)
);
INSERT INTO invoice_counters (year, last) SELECT year, MAX(sequence) FROM invoices GROUP BY year;
