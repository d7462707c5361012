-- Full-text search over tool and server names, titles and descriptions (FTS5, rowid = the base table's id).
CREATE VIRTUAL TABLE `tools_fts` USING fts5(name, title, description, tokenize = 'unicode61 remove_diacritics 2');
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
CREATE VIRTUAL TABLE `servers_fts` USING fts5(name, title, description, tokenize = 'unicode61 remove_diacritics 2');
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
