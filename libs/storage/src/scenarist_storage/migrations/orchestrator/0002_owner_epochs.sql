-- Fencing tokens for run ownership: an orchestrator takes a new epoch every time it is assigned
-- partitions, so an owner that lost its partitions in a rebalance always holds a smaller epoch
-- than the one that replaced it, and its writes are rejected.
CREATE SEQUENCE owner_epochs START WITH 1;
