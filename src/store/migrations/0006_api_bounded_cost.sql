-- Issue 20: the API's answers stay cheap as the catalog grows.
-- 1. Catalog statistics computed once (at the end of a crawl, or by the first reader after a change) and kept here.
--    Any write that could change them marks the row dirty; a dirty row is recomputed, never served.
CREATE TABLE `catalog_stats` (
  `id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
  `stats` text NOT NULL,
  `computed_at` text NOT NULL,
  `dirty` integer DEFAULT 0 NOT NULL
);--> statement-breakpoint
CREATE TRIGGER `catalog_stats_servers_ai` AFTER INSERT ON `servers` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_servers_au` AFTER UPDATE OF status, last_probe_id ON `servers` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_servers_ad` AFTER DELETE ON `servers` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_sources_ai` AFTER INSERT ON `sources` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_sources_au` AFTER UPDATE OF status, server_id, source_id ON `sources` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_sources_ad` AFTER DELETE ON `sources` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_tools_ai` AFTER INSERT ON `tools` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_tools_au` AFTER UPDATE OF removed_at, hash, category, risk, server_id ON `tools` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_tools_ad` AFTER DELETE ON `tools` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_versions_ai` AFTER INSERT ON `tool_versions` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_versions_ad` AFTER DELETE ON `tool_versions` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_classifications_ai` AFTER INSERT ON `classifications` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_classifications_au` AFTER UPDATE ON `classifications` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_classifications_ad` AFTER DELETE ON `classifications` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
CREATE TRIGGER `catalog_stats_probes_au` AFTER UPDATE OF outcome ON `probes` WHEN (SELECT dirty FROM catalog_stats WHERE id = 1) = 0 BEGIN UPDATE catalog_stats SET dirty = 1 WHERE id = 1; END;--> statement-breakpoint
-- 2. Classifier flags of each tool's current classification, by kind, so `flag=` reads an index instead of parsing
--    every classification's JSON. Kept by triggers on the columns every writer sets when a tool's classification
--    changes (the category/risk copies on tools), so no writer has to remember it.
CREATE TABLE `tool_flags` (
  `kind` text NOT NULL,
  `tool_id` integer NOT NULL REFERENCES `tools`(`id`) ON DELETE CASCADE,
  PRIMARY KEY (`kind`, `tool_id`)
) WITHOUT ROWID;--> statement-breakpoint
CREATE INDEX `tool_flags_tool` ON `tool_flags` (`tool_id`);--> statement-breakpoint
CREATE TRIGGER `tool_flags_ai` AFTER INSERT ON `tools` BEGIN
  INSERT OR IGNORE INTO tool_flags (kind, tool_id)
  SELECT CASE WHEN instr(je.value, ':') > 0 THEN substr(je.value, 1, instr(je.value, ':') - 1) ELSE je.value END, new.id
  FROM json_each((SELECT c.flags FROM classifications c WHERE c.hash = new.hash ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1)) je;
END;--> statement-breakpoint
CREATE TRIGGER `tool_flags_au` AFTER UPDATE OF hash, category, risk ON `tools` BEGIN
  DELETE FROM tool_flags WHERE tool_id = new.id;
  INSERT OR IGNORE INTO tool_flags (kind, tool_id)
  SELECT CASE WHEN instr(je.value, ':') > 0 THEN substr(je.value, 1, instr(je.value, ':') - 1) ELSE je.value END, new.id
  FROM json_each((SELECT c.flags FROM classifications c WHERE c.hash = new.hash ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1)) je;
END;--> statement-breakpoint
CREATE TRIGGER `tool_flags_ad` AFTER DELETE ON `tools` BEGIN
  DELETE FROM tool_flags WHERE tool_id = old.id;
END;--> statement-breakpoint
INSERT OR IGNORE INTO tool_flags (kind, tool_id)
SELECT CASE WHEN instr(je.value, ':') > 0 THEN substr(je.value, 1, instr(je.value, ':') - 1) ELSE je.value END, t.id
FROM tools t JOIN classifications c ON c.hash = t.hash AND c.rowid = (
  SELECT c2.rowid FROM classifications c2 WHERE c2.hash = t.hash ORDER BY c2.created_at DESC, c2.rowid DESC LIMIT 1),
  json_each(c.flags) je;--> statement-breakpoint
-- 3. The list orders other than by server read an index in order instead of sorting every current tool.
CREATE INDEX `tools_live_name` ON `tools` (`name`, `id`) WHERE `removed_at` IS NULL;--> statement-breakpoint
CREATE INDEX `tools_live_risk` ON `tools` ((CASE `risk` WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END), `id`) WHERE `removed_at` IS NULL;
