import Foundation
import Testing
@testable import BurrowCore

@Suite("Provisioning recipe keys")
struct ProvisionRecipeTests {
    static let parent = String(repeating: "ab", count: 32)

    /// A project with a script and a file to copy, and the recipe of its burrow.yaml; holding
    /// the folder keeps it on disk while the recipe is hashed.
    struct Fixture {
        let folder: ProjectFolder
        let recipe: ProvisionRecipe

        init(folder name: String = "demo", run: String = "apt-get install -y make") throws {
            folder = try ProjectFolder(named: name)
            try folder.write("setup.sh", "#!/bin/sh\nmake\n", mode: 0o755)
            try folder.write("app.toml", "port = 80\n")
            recipe = try folder.load(yaml: """
                provision:
                  - run: \(run)
                  - script: setup.sh
                  - copy: app.toml
                    to: /etc/app.toml
                  - run: echo done
                """).provision
        }

        func keys(parent: String = ProvisionRecipeTests.parent) throws -> [String] {
            try recipe.keys(parent: parent)
        }
    }

    @Test func sameRecipeGivesSameKeys() throws {
        let fixture = try Fixture()
        let keys = try fixture.keys()
        #expect(keys.count == 4)
        #expect(Set(keys).count == 4)
        #expect(keys.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
        #expect(try fixture.keys() == keys)
        #expect(try Fixture(folder: "moved").keys() == keys, "keys must not depend on where the project lives")
    }

    @Test func parentKeyChangesEveryKey() throws {
        let fixture = try Fixture()
        let first = try fixture.keys()
        let second = try fixture.keys(parent: String(repeating: "cd", count: 32))
        #expect(zip(first, second).allSatisfy { $0 != $1 })
    }

    @Test func changedStepChangesItsKeyAndEveryLaterOne() throws {
        let fixture = try Fixture()
        let original = try fixture.keys()
        let changedFirst = try Fixture(run: "apt-get install -y cmake").keys()
        #expect(zip(original, changedFirst).allSatisfy { $0 != $1 })

        var steps = fixture.recipe.steps
        steps[3] = .run("echo finished")
        let changedLast = try ProvisionRecipe(steps: steps).keys(parent: Self.parent)
        #expect(Array(changedLast.prefix(3)) == Array(original.prefix(3)))
        #expect(changedLast[3] != original[3])
    }

    @Test func changedFileBytesChangeItsKeyAndLaterOnes() throws {
        let fixture = try Fixture()
        let before = try fixture.keys()
        try fixture.folder.write("app.toml", "port = 81\n")
        let after = try fixture.keys()
        #expect(Array(after.prefix(2)) == Array(before.prefix(2)))
        #expect(after[2] != before[2])
        #expect(after[3] != before[3])
    }

    @Test func changedFileModeChangesItsKey() throws {
        let fixture = try Fixture()
        let before = try fixture.keys()
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o644], ofItemAtPath: fixture.folder.root.appendingPathComponent("setup.sh").path)
        let after = try fixture.keys()
        #expect(after[0] == before[0])
        #expect(after[1] != before[1])
        #expect(after[2] != before[2])
    }

    @Test func stepsOfDifferentKindsWithTheSameTextDiffer() throws {
        let folder = try ProjectFolder()
        try folder.write("x", "")
        let file = ProjectFile(path: "x", url: folder.root.appendingPathComponent("x"))
        let keys = try [ProvisionStep.run("x"), .script(file), .copy(file, to: "/x")].map {
            try ProvisionRecipe(steps: [$0]).keys(parent: Self.parent)[0]
        }
        #expect(Set(keys).count == 3)
    }

    @Test func aFileGoneSinceLoadingIsAnError() throws {
        let fixture = try Fixture()
        try FileManager.default.removeItem(at: fixture.folder.root.appendingPathComponent("setup.sh"))
        #expect(throws: BurrowError.self) { try fixture.keys() }
    }

    @Test func emptyRecipeHasNoKeys() throws {
        #expect(try ProvisionRecipe(steps: []).keys(parent: Self.parent).isEmpty)
    }
}
