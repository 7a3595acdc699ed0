/// The error `body` throws, nil when it returns: for tests that check several failures in a row.
public func outcome(_ body: () async throws -> Void) async -> Error? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
