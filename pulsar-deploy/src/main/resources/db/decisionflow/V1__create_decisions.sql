-- decisionflow: the decisions table that the JDBC sink (Pulsar's pulsar-io-jdbc-postgres,
-- pulsar-deploy/sinks/decisions-postgres.yaml) writes into. Column names are the field names of
-- the Decision message (schemas/src/main/proto/decisionflow.proto): the sink binds record fields to
-- columns by name, and declares every column below in its `key` / `nonKey` settings.
--
-- One row per transaction: the sink UPSERTs on transaction_id, so a decision delivered twice (a
-- redelivery, a replayed stream, a decision replicated from another region) stays one row.
--
-- Applied by `decisionflow db migrate` (Flyway; history in flyway_schema_history), or by hand with
-- psql. Never edit a released migration: add V2__..., V3__... instead.
CREATE TABLE decisions (
    transaction_id       text             NOT NULL PRIMARY KEY,
    card_id              text             NOT NULL,
    merchant_id          text             NOT NULL,
    amount               double precision NOT NULL,
    currency             text             NOT NULL,
    event_time_ms        bigint           NOT NULL,
    channel              text             NOT NULL,
    country              text             NOT NULL,
    feature_spec_version text             NOT NULL,
    -- Feature values as a JSON object {"name": value, ...} in feature-spec order.
    features_json        text             NOT NULL,
    arm                  text             NOT NULL,
    model_slot           text             NOT NULL,
    model_version        text             NOT NULL,
    score                double precision NOT NULL,
    fallback             boolean          NOT NULL,
    threshold            double precision NOT NULL,
    -- ALERT or OK
    outcome              text             NOT NULL,
    -- APPROVE, REVIEW or DECLINE when the unit sets bands, else empty
    band                 text             NOT NULL,
    late                 boolean          NOT NULL,
    routing_version      text             NOT NULL,
    enriched_at_ms       bigint           NOT NULL,
    routed_at_ms         bigint           NOT NULL,
    scored_at_ms         bigint           NOT NULL,
    decided_at_ms        bigint           NOT NULL,
    -- When the row was first written, by the database.
    stored_at            timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX decisions_card_time ON decisions (card_id, event_time_ms);
CREATE INDEX decisions_alerts ON decisions (decided_at_ms) WHERE outcome = 'ALERT';
