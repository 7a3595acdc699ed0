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
        return migrator
    }
}
