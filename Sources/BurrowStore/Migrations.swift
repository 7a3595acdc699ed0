import GRDB

extension BurrowDatabase {
    /// Named, append-only schema history. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-images") { db in
            try db.create(table: "baseImage") { table in
                table.primaryKey("digest", .text)
                table.column("virtualSize", .integer).notNull()
                table.column("fileSize", .integer).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "image") { table in
                table.primaryKey("name", .text)
                table.column("digest", .text).notNull().indexed().references("baseImage", onDelete: .restrict)
                table.column("distro", .text)
                table.column("source", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v2-operations") { db in
            try db.create(table: "operation") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("kind", .text).notNull()
                table.column("subject", .text).notNull()
                table.column("scratchPath", .text)
                table.column("pid", .integer).notNull()
                table.column("startedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v3-environments") { db in
            try db.create(table: "environment") { table in
                table.primaryKey("name", .text)
                table.column("imageName", .text).notNull().indexed().references("image", onDelete: .restrict)
                table.column("domainName", .text).notNull().unique()
                table.column("connectURI", .text).notNull()
                table.column("cpus", .integer).notNull()
                table.column("memoryMiB", .integer).notNull()
                table.column("diskBytes", .integer).notNull()
                table.column("sshPort", .integer).notNull().unique()
                table.column("macAddress", .text).notNull().unique()
                table.column("guestUser", .text).notNull()
                table.column("guestUID", .integer).notNull()
                table.column("guestGID", .integer).notNull()
                table.column("accelerator", .text).notNull()
                table.column("diskID", .text).notNull().unique()
                table.column("layerKey", .text)
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v4-guest-traits") { db in
            try db.alter(table: "baseImage") { table in
                table.add(column: "guestTraits", .jsonText)
            }
        }
        migrator.registerMigration("v5-layers") { db in
            try db.create(table: "layer") { table in
                table.primaryKey("key", .text)
                table.column("parentDigest", .text).notNull().indexed().references("baseImage", onDelete: .restrict)
                table.column("parentKey", .text).indexed().references("layer", onDelete: .restrict)
                table.column("kind", .text).notNull()
                table.column("purpose", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v6-snapshots") { db in
            try db.create(table: "snapshot") { table in
                table.column("environment", .text).notNull().references("environment", onDelete: .cascade)
                table.column("name", .text).notNull()
                table.column("layerKey", .text).notNull().indexed().references("layer", onDelete: .restrict)
                table.column("createdAt", .datetime).notNull()
                table.primaryKey(["environment", "name"])
            }
        }
        migrator.registerMigration("v7-gpu") { db in
            try db.alter(table: "environment") { table in
                table.add(column: "gpuRequest", .text)
            }
            try db.create(table: "gpuAssignment") { table in
                table.primaryKey("address", .text)
                table.column("environment", .text).notNull().indexed().references("environment", onDelete: .cascade)
                table.column("assignedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v8-shares-ports") { db in
            try db.alter(table: "environment") { table in
                table.add(column: "sharedFolders", .jsonText).notNull().defaults(to: "[]")
                table.add(column: "ports", .jsonText).notNull().defaults(to: "[]")
                table.add(column: "variables", .jsonText).notNull().defaults(to: "{}")
                table.add(column: "projectRoot", .text)
            }
        }
        return migrator
    }
}
