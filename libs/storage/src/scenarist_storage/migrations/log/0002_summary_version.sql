-- RunLogSummary carries the scenario version that ran.
ALTER TABLE run_summaries ADD COLUMN scenario_version integer NOT NULL DEFAULT 0;
