import Foundation

extension BurrowHome {
    /// Installed guest kernels, one folder per kernel release.
    public var kernels: URL { root.appendingPathComponent("kernels") }

    public func kernelDirectory(version: String) -> URL { kernels.appendingPathComponent(version) }
}

/// One installed guest kernel: `$BURROW_HOME/kernels/<version>/` holding the kernel as shipped
/// (`vmlinuz`), its uncompressed ELF form when it could be extracted (`vmlinux`, which boots much
/// faster under TCG through the PVH entry), burrow's minimal initramfs (`initrd.img`), an ext4
/// image of the full module tree (`modules.img`, attached read-only to every guest) and
/// `kernel.json`. The folder appears complete, by one rename, or not at all.
public struct KernelCore: Sendable, Equatable {
    static let manifestName = "kernel.json"

    /// The kernel release, as `uname -r` prints it in the guest.
    public let version: String
    public let directory: URL
    /// The file to boot (`-kernel`, libvirt's `<kernel>`): `vmlinux` when present, else `vmlinuz`.
    public let bootKernel: URL
    public let vmlinuz: URL
    public let vmlinux: URL?
    public let initrd: URL
    public let modulesImage: URL
    /// Where the kernel came from, for people (a package name and version, or the imported path).
    public let source: String
    public let createdAt: Date
    /// sha256 of the `/init` the initramfs boots; nil in folders written before burrow kept it.
    public let initSHA256: String?

    /// Kernel releases become folder names: letters, digits and `.+_-`, not starting with a dot.
    static func isValidVersion(_ version: String) -> Bool {
        !version.isEmpty && version.utf8.count <= 128 && !version.hasPrefix(".")
            && version.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || [UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "_"), UInt8(ascii: "-")].contains(byte)
            }
    }

    /// Reads the kernel in `directory` from its `kernel.json`.
    init(directory: URL) throws {
        let manifestURL = directory.appendingPathComponent(Self.manifestName)
        let manifest = try KernelManifest.read(from: directory)
        let names = [manifest.files.vmlinuz, manifest.files.initrd, manifest.files.modules, manifest.boot] + (manifest.files.vmlinux.map { [$0] } ?? [])
        // Names must stay inside the folder, and the boot file must be one of the kernels.
        guard manifest.version == directory.lastPathComponent,
              names.allSatisfy({ !$0.contains("/") && $0 != "." && $0 != ".." && !$0.isEmpty }),
              manifest.boot == manifest.files.vmlinuz || manifest.boot == manifest.files.vmlinux
        else {
            throw BurrowError(.failure, "\(manifestURL.path) does not describe the kernel in its folder", hint: "Fetch or import that kernel again (burrow kernel fetch, or burrow kernel import).")
        }
        version = manifest.version
        self.directory = directory
        bootKernel = directory.appendingPathComponent(manifest.boot)
        vmlinuz = directory.appendingPathComponent(manifest.files.vmlinuz)
        vmlinux = manifest.files.vmlinux.map { directory.appendingPathComponent($0) }
        initrd = directory.appendingPathComponent(manifest.files.initrd)
        modulesImage = directory.appendingPathComponent(manifest.files.modules)
        source = manifest.source
        createdAt = manifest.created
        initSHA256 = manifest.initSHA256
    }
}

/// `kernel.json`: what a kernel folder holds. Written last, so its presence marks a complete folder.
struct KernelManifest: Codable {
    struct Files: Codable {
        var vmlinuz: String
        var vmlinux: String?
        var initrd: String
        var modules: String
    }

    var version: String
    var files: Files
    /// The name of the file to boot.
    var boot: String
    var source: String
    var created: Date
    var initSHA256: String?

    static func read(from directory: URL) throws -> KernelManifest {
        let url = directory.appendingPathComponent(KernelCore.manifestName)
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(KernelManifest.self, from: Data(contentsOf: url))
        } catch {
            throw BurrowError(
                .failure, "\(url.path) is damaged: \(error.localizedDescription)",
                hint: "Fetch or import that kernel again (burrow kernel fetch, or burrow kernel import)."
            )
        }
    }

    func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: directory.appendingPathComponent(KernelCore.manifestName), options: .atomic)
    }
}
