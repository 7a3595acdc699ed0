// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "burrow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "burrow", targets: ["burrow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries, each imported once and wrapped once.
        .systemLibrary(name: "CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CGuestFS", pkgConfig: "libguestfs", providers: [.apt(["libguestfs-dev"])]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev"])]),
        .target(name: "Libvirt", dependencies: ["CLibvirt"]),
        .target(name: "ByteString"),
        .target(name: "Archive", dependencies: ["CArchive", "ByteString"]),
        .target(name: "GuestFS", dependencies: ["CGuestFS"]),
        .target(name: "Ext4", dependencies: ["CExt2fs", "ByteString"]),

        .target(name: "BurrowStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "BurrowCore",
            dependencies: [
                "BurrowStore", "Archive", "Ext4", "Libvirt", "GuestFS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "BurrowCLI",
            dependencies: ["BurrowCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "burrow", dependencies: ["BurrowCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "BurrowTestSupport", dependencies: ["BurrowCore", "Archive"]),

        .testTarget(name: "BurrowStoreTests", dependencies: ["BurrowStore", "BurrowTestSupport"]),
        .testTarget(name: "BurrowCoreTests", dependencies: ["BurrowCore", "BurrowTestSupport"]),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"]),
        .testTarget(name: "GuestFSTests", dependencies: ["GuestFS"]),
        .testTarget(name: "CatalogTests", dependencies: ["BurrowCore"]),
        .testTarget(name: "GPUTests", dependencies: ["BurrowCore", "BurrowTestSupport"]),
        .testTarget(name: "KernelTests", dependencies: ["BurrowCore", "BurrowTestSupport"]),
        .testTarget(name: "ProjectTests", dependencies: ["BurrowCore", "BurrowTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
