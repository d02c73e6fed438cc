/// The tables and the append function esmlog keeps in its database, created and versioned by
/// esmlog itself (`esm_schema.version`).
///
/// - `esm_segment`: each segment's 96-byte header, as at the start of a segment file.
/// - `esm_record`: each record's bytes exactly as in a segment file (frame, CRC32C, zstd body,
///   chain link), with where it sits in its segment, the last sequence it holds, the chain hash
///   after it, and the batch id of the append that wrote it.
/// - `esm_head`: one row, the lock every append takes, and the chain's tip.
/// - `esm_repair`, `esm_segment_cut`, `esm_record_cut` (version 2): the repair journal, and the
///   segments and records a repair cut from the log, kept beside it; and `esm_turn`, a turn's
///   lock and read in one statement.
enum PostgresSchema {
    static let version = 2

    /// Taken (as a transaction-scoped advisory lock) while the schema is created, so nodes that
    /// start together create it once.
    static let creationLock: Int64 = 0x65_73_6d_6c_6f_67  // "esmlog"

    /// The channel appends notify with the last sequence they wrote.
    static let channel = "esmlog"

    static let create: [String] = [
        """
        CREATE TABLE esm_schema (version integer NOT NULL)
        """,
        """
        CREATE TABLE esm_segment (
            idx bigint PRIMARY KEY,
            first_seq bigint NOT NULL,
            header bytea NOT NULL
        )
        """,
        """
        CREATE TABLE esm_record (
            segment bigint NOT NULL REFERENCES esm_segment (idx),
            start_offset bigint NOT NULL,
            end_offset bigint NOT NULL,
            last_seq bigint NOT NULL,
            hash bytea NOT NULL,
            bytes bytea NOT NULL,
            batch uuid UNIQUE,
            node text NOT NULL DEFAULT '',
            written_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (segment, start_offset)
        )
        """,
        """
        CREATE TABLE esm_head (
            one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
            segment bigint,
            end_offset bigint NOT NULL DEFAULT 0,
            last_seq bigint NOT NULL DEFAULT 0,
            hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex')
        )
        """,
        "INSERT INTO esm_head DEFAULT VALUES",
        // One statement per append, so no lock is ever held across a client's round trip: a
        // node that dies or is cut off mid-append cannot hold the head. Under the head's row
        // lock (taken first), a batch already written is reported, not written twice (how a
        // retry after a lost COMMIT is resolved); an append decided on an older head is refused
        // as stale; otherwise the records go in at the head and the head moves past them.
        """
        CREATE FUNCTION esm_append(p_batch uuid, p_node text, p_previous bytea, p_segment bigint, p_header bytea,
                                   p_first_seq bigint, p_starts bigint[], p_records bytea[], p_last_seqs bigint[],
                                   p_hashes bytea[]) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE
            h esm_head%ROWTYPE;
            n integer := array_length(p_records, 1);
            i integer;
        BEGIN
            SELECT * INTO h FROM esm_head WHERE one_row FOR UPDATE;
            IF EXISTS (SELECT 1 FROM esm_record WHERE batch = p_batch) THEN
                RETURN 'present';
            END IF;
            IF h.hash <> p_previous THEN
                RETURN 'stale';
            END IF;
            IF p_header IS NOT NULL THEN
                IF h.segment IS NOT NULL AND p_segment <> h.segment + 1 THEN
                    RAISE EXCEPTION 'esmlog: segment % does not follow segment %', p_segment, h.segment;
                END IF;
                INSERT INTO esm_segment (idx, first_seq, header) VALUES (p_segment, p_first_seq, p_header);
                h.segment := p_segment;
                h.end_offset := length(p_header);
            ELSIF h.segment IS DISTINCT FROM p_segment THEN
                RAISE EXCEPTION 'esmlog: append to segment % while the head is in segment %', p_segment, h.segment;
            END IF;
            FOR i IN 1 .. n LOOP
                IF p_starts[i] <> h.end_offset THEN
                    RAISE EXCEPTION 'esmlog: record at offset % where % belongs', p_starts[i], h.end_offset;
                END IF;
                INSERT INTO esm_record (segment, start_offset, end_offset, last_seq, hash, bytes, batch, node)
                VALUES (p_segment, p_starts[i], p_starts[i] + length(p_records[i]), p_last_seqs[i], p_hashes[i],
                        p_records[i], CASE WHEN i = n THEN p_batch END, p_node);
                h.end_offset := p_starts[i] + length(p_records[i]);
            END LOOP;
            UPDATE esm_head SET segment = p_segment, end_offset = h.end_offset, last_seq = p_last_seqs[n], hash = p_hashes[n]
            WHERE one_row;
            PERFORM pg_notify('esmlog', p_last_seqs[n]::text);
            RETURN 'appended';
        END
        $$
        """,
        "INSERT INTO esm_schema (version) VALUES (1)",
    ]

    /// What each later version adds, applied in order to a database at an earlier one (a new
    /// database gets `create`, then all of them); each ends by recording its version.
    static let upgrades: [(version: Int, statements: [String])] = [
        (2, [
            """
            CREATE TABLE esm_repair (
                id bigserial PRIMARY KEY,
                repaired_at timestamptz NOT NULL DEFAULT now(),
                kept_through bigint NOT NULL,
                previous_last_valid bigint NOT NULL,
                head_hash bytea NOT NULL,
                entry text NOT NULL
            )
            """,
            "CREATE TABLE esm_segment_cut (repair bigint NOT NULL REFERENCES esm_repair (id), LIKE esm_segment)",
            "CREATE TABLE esm_record_cut (repair bigint NOT NULL REFERENCES esm_repair (id), LIKE esm_record)",
            // A turn's first statement: takes the head's lock, then reads the records after the
            // node's head with a snapshot taken after the lock (each statement of a plpgsql
            // function takes its own), so it sees what the lock's last holder committed. Every
            // row carries the head's hash; with nothing to read, one row with the hash alone.
            """
            CREATE FUNCTION esm_turn(p_segment bigint, p_offset bigint, p_limit integer)
            RETURNS TABLE (t_hash bytea, t_segment bigint, t_start bigint, t_header bytea, t_bytes bytea) LANGUAGE plpgsql AS $$
            DECLARE
                h bytea;
            BEGIN
                SELECT esm_head.hash INTO h FROM esm_head WHERE one_row FOR UPDATE;
                RETURN QUERY SELECT h, r.segment, r.start_offset, s.header, r.bytes
                    FROM esm_record r JOIN esm_segment s ON s.idx = r.segment
                    WHERE (r.segment, r.start_offset) >= (p_segment, p_offset)
                    ORDER BY r.segment, r.start_offset LIMIT p_limit;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT h, NULL::bigint, NULL::bigint, NULL::bytea, NULL::bytea;
                END IF;
            END
            $$
            """,
            "INSERT INTO esm_schema (version) VALUES (2)",
        ]),
    ]
}
