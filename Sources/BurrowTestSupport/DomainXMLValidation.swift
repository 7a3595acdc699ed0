import BurrowCore
import Foundation

/// Checks a domain definition against libvirt's schema with `virt-xml-validate`; status 0 means valid.
public func validateDomainXML(_ xml: String) async throws -> ProcessRunner.Output {
    let directory = try TemporaryDirectory(prefix: "burrow-domain-xml")
    let file = directory.path("domain.xml")
    try Data(xml.utf8).write(to: file)
    return try await ProcessRunner().runAllowingFailure("virt-xml-validate", [file.path, "domain"])
}
