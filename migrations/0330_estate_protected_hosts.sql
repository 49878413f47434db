-- The estate page names how many of each VPC's public hosts are protected (issue 13 item 3):
-- tagged `natpilot:protected=true`, or protected by the VPC's newest run. Counted by the scan
-- that saw them. -1: the row was written by a scan from before natpilot counted them, which
-- the page shows as "not counted" rather than a zero it never measured.
ALTER TABLE estate_vpcs ADD COLUMN protected_hosts INTEGER NOT NULL DEFAULT -1;
