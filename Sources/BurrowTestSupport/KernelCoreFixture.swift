import BurrowCore
import Foundation

/// Writes a kernel core's manifest (`kernel.json`, as `burrow kernel fetch` leaves it) into
/// `home`'s kernel folder for `version`, naming `bootFile` as the file to boot; the files it names
/// are left for the test to provide. Returns the folder.
@discardableResult
public func installKernelManifest(in home: BurrowHome, version: String, bootFile: String = "vmlinuz") throws -> URL {
    let directory = home.kernelDirectory(version: version)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let manifest: [String: Any] = [
        "version": version,
        "files": ["vmlinuz": bootFile, "initrd": "initrd.img", "modules": "modules.img"],
        "boot": bootFile,
        "source": "test",
        "created": ISO8601DateFormatter().string(from: Date()),
    ]
    try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: directory.appendingPathComponent("kernel.json"))
    return directory
}
