import BurrowCore
import Foundation
import Testing

/// Two H100s on two NUMA nodes, each alone in its IOMMU group; `extraOnNode1` adds a third.
private func twoNodeHost(extraOnNode1: Bool = false) throws -> [GPUDevice] {
    let host = try HostFixture()
    try host.addH100("0000:17:00.0", group: 20, numaNode: 0)
    try host.addH100("0000:ca:00.0", group: 80, numaNode: 1)
    if extraOnNode1 { try host.addH100("0000:cb:00.0", group: 81, numaNode: 1) }
    return try host.scan()
}

private func addresses(_ selection: GPUSelection) -> [String] {
    selection.functions.map(\.address.description)
}

private func address(_ text: String) throws -> PCIAddress {
    try #require(PCIAddress(text))
}

@Suite struct RequestParsingTests {
    @Test func parsesEveryForm() throws {
        #expect(try GPURequest(parsing: "all") == .all)
        #expect(try GPURequest(parsing: "ALL") == .all)
        #expect(try GPURequest(parsing: "2") == .count(2))
        #expect(try GPURequest(parsing: "0000:65:00.0") == .address(try address("0000:65:00.0")))
        #expect(try GPURequest(parsing: "65:00.0") == .address(try address("0000:65:00.0")))
        #expect(try GPURequest(parsing: "H100") == .model("H100"))
        #expect(try GPURequest(parsing: "rtx 4090") == .model("rtx 4090"))
    }

    @Test func refusesNothingAndZero() {
        for text in ["", "  ", "0", "00"] {
            #expect(throws: BurrowError.self, "\(text)") { try GPURequest(parsing: text) }
        }
    }
}

@Suite struct SelectionTests {
    @Test func countTwoTakesBothNodes() throws {
        let inventory = try twoNodeHost()
        #expect(inventory.map(\.numaNode) == [0, 1])
        let selection = try GPUSelector.choose(.count(2), from: inventory, taken: [:])
        #expect(addresses(selection) == ["0000:17:00.0", "0000:ca:00.0"])
    }

    @Test func countOnePicksOne() throws {
        let selection = try GPUSelector.choose(.count(1), from: try twoNodeHost(), taken: [:])
        #expect(addresses(selection) == ["0000:17:00.0"])
    }

    @Test func countPrefersGPUsOnOneNUMANode() throws {
        let selection = try GPUSelector.choose(.count(2), from: try twoNodeHost(extraOnNode1: true), taken: [:])
        #expect(addresses(selection) == ["0000:ca:00.0", "0000:cb:00.0"])
        #expect(selection.gpus.allSatisfy { $0.numaNode == 1 })
    }

    @Test func byAddressInEitherForm() throws {
        let inventory = try twoNodeHost()
        for text in ["ca:00.0", "0000:ca:00.0"] {
            let selection = try GPUSelector.choose(try GPURequest(parsing: text), from: inventory, taken: [:])
            #expect(addresses(selection) == ["0000:ca:00.0"])
        }
        let error = try #require(throws: BurrowError.self) {
            try GPUSelector.choose(.address(try address("0000:99:00.0")), from: inventory, taken: [:])
        }
        #expect(error.kind == .notFound)
        #expect(error.hint?.contains("0000:17:00.0, 0000:ca:00.0") == true)
    }

    @Test func byModelIgnoringCase() throws {
        let inventory = try twoNodeHost()
        let selection = try GPUSelector.choose(.model("h100 sxm"), from: inventory, taken: [:])
        #expect(addresses(selection) == ["0000:17:00.0"])
        let error = try #require(throws: BurrowError.self) {
            try GPUSelector.choose(.model("4090"), from: inventory, taken: [:])
        }
        #expect(error.kind == .notFound)
        #expect(error.hint == "Models here: GH100 [H100 SXM5 80GB].")
    }

    @Test func takenGPUsAreSkippedAndNamedWithTheirHolder() throws {
        let inventory = try twoNodeHost()
        let taken = [try address("0000:17:00.0"): "train"]
        #expect(addresses(try GPUSelector.choose(.count(1), from: inventory, taken: taken)) == ["0000:ca:00.0"])
        #expect(addresses(try GPUSelector.choose(.all, from: inventory, taken: taken)) == ["0000:ca:00.0"])

        let error = try #require(throws: BurrowError.self) {
            try GPUSelector.choose(.count(2), from: inventory, taken: taken)
        }
        #expect(error.kind == .wrongState)
        #expect(error.message == "cannot attach 2 GPUs: 1 of 2 are free and ready (0000:17:00.0 is held by environment 'train')")

        let byAddress = try #require(throws: BurrowError.self) {
            try GPUSelector.choose(.address(try address("17:00.0")), from: inventory, taken: taken)
        }
        #expect(byAddress.message.contains("held by environment 'train'"))
    }

    @Test func aGroupHeldThroughItsAudioFunctionIsTaken() throws {
        let host = try HostFixture()
        try host.addFunction("0000:01:00.0", vendor: 0x10de, device: 0x2684, classCode: 0x030000, driver: "nvidia", group: 1)
        try host.addFunction("0000:01:00.1", vendor: 0x10de, device: 0x22ba, classCode: 0x040300, driver: "snd_hda_intel", group: 1)
        let inventory = try host.scan()
        #expect(addresses(try GPUSelector.choose(.all, from: inventory, taken: [:])) == ["0000:01:00.0", "0000:01:00.1"])
        #expect(throws: BurrowError.self) {
            try GPUSelector.choose(.all, from: inventory, taken: [try address("0000:01:00.1"): "web"])
        }
    }

    @Test func allNeedsAtLeastOne() throws {
        let host = try HostFixture()
        try host.addH100("0000:65:00.0", group: nil)
        let error = try #require(throws: BurrowError.self) {
            try GPUSelector.choose(.all, from: try host.scan(), taken: [:])
        }
        #expect(error.message.contains("the IOMMU is off"))

        let none = try #require(throws: BurrowError.self) { try GPUSelector.choose(.count(1), from: [], taken: [:]) }
        #expect(none.kind == .notFound)
        #expect(none.message.contains("no NVIDIA GPU was found"))
    }
}
