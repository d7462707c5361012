-- Issue 20: search on stems. The full-text tables are rebuilt with the porter stemmer over unicode61, so
-- `delete files` finds `delete_file` and `listing` finds `list_items`. Same columns, same triggers as 0001.
DROP TRIGGER IF EXISTS `tools_fts_ai`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `tools_fts_au`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `tools_fts_ad`;--> statement-breakpoint
DROP TABLE IF EXISTS `tools_fts`;--> statement-breakpoint
CREATE VIRTUAL TABLE `tools_fts` USING fts5(name, title, description, tokenize = 'porter unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO tools_fts(rowid, name, title, description)
  SELECT id, replace(replace(replace(name, '_', ' '), '-', ' '), '.', ' ') || ' ' || name, coalesce(title, ''), coalesce(description, '') FROM tools;
--> statement-breakpoint
CREATE TRIGGER `tools_fts_ai` AFTER INSERT ON `tools` BEGIN
  INSERT INTO tools_fts(rowid, name, title, description) VALUES (new.id, replace(replace(replace(new.name, '_', ' '), '-', ' '), '.', ' ') || ' ' || new.name, coalesce(new.title, ''), coalesce(new.description, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `tools_fts_au` AFTER UPDATE OF name, title, description ON `tools` BEGIN
  DELETE FROM tools_fts WHERE rowid = old.id;
  INSERT INTO tools_fts(rowid, name, title, description) VALUES (new.id, replace(replace(replace(new.name, '_', ' '), '-', ' '), '.', ' ') || ' ' || new.name, coalesce(new.title, ''), coalesce(new.description, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `tools_fts_ad` AFTER DELETE ON `tools` BEGIN
  DELETE FROM tools_fts WHERE rowid = old.id;
END;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `servers_fts_ai`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `servers_fts_au`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `servers_fts_ad`;--> statement-breakpoint
DROP TABLE IF EXISTS `servers_fts`;--> statement-breakpoint
CREATE VIRTUAL TABLE `servers_fts` USING fts5(name, title, description, tokenize = 'porter unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO servers_fts(rowid, name, title, description)
  SELECT id, replace(replace(replace(replace(name, '/', ' '), '-', ' '), '.', ' '), '@', ' ') || ' ' || name, coalesce(title, ''), coalesce(description, '') FROM servers;
--> statement-breakpoint
CREATE TRIGGER `servers_fts_ai` AFTER INSERT ON `servers` BEGIN
  INSERT INTO servers_fts(rowid, name, title, description) VALUES (new.id, replace(replace(replace(replace(new.name, '/', ' '), '-', ' '), '.', ' '), '@', ' ') || ' ' || new.name, coalesce(new.title, ''), coalesce(new.description, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `servers_fts_au` AFTER UPDATE OF name, title, description ON `servers` BEGIN
  DELETE FROM servers_fts WHERE rowid = old.id;
  INSERT INTO servers_fts(rowid, name, title, description) VALUES (new.id, replace(replace(replace(replace(new.name, '/', ' '), '-', ' '), '.', ' '), '@', ' ') || ' ' || new.name, coalesce(new.title, ''), coalesce(new.description, ''));
END;
--> statement-breakpoint
CREATE TRIGGER `servers_fts_ad` AFTER DELETE ON `servers` BEGIN
  DELETE FROM servers_fts WHERE rowid = old.id;
END;
