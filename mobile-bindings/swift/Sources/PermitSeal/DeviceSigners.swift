// The device key on iOS: ECDSA P-256 with SHA-256 (docs/FORMAT.md §10), the only curve the
// Secure Enclave supports. Hand-written, not generated.
//
// NOT COMPILED on the build machine (no Swift toolchain there); the same protocol is
// exercised in Kotlin and Python against the real server.
//
//   let signer: DeviceSigner = (try? SecureEnclaveDeviceSigner.loadOrCreate(tag: "permitseal-device"))
//       ?? SoftwareDeviceSigner.loadOrCreate(tag: "permitseal-device")   // simulator, older devices
//   _ = try client.enrolDevice(signer: signer)
//   let outbox = try Outbox.openSigned(directory: dir, signer: signer)

import CryptoKit
import Foundation
import Security

/// Keeps a key's opaque representation in the Keychain (this device only, after first unlock).
private enum KeyBlob {
    static func load(_ tag: String) -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: "org.permitseal.device-key",
            kSecAttrAccount as String: tag,
            kSecReturnData as String: true,
        ]
        var out: CFTypeRef?
        guard SecItemCopyMatching(query as CFDictionary, &out) == errSecSuccess else { return nil }
        return out as? Data
    }

    static func store(_ tag: String, _ data: Data) throws {
        let item: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: "org.permitseal.device-key",
            kSecAttrAccount as String: tag,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: data,
        ]
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else {
            throw SignerError.KeyUnavailable(reason: "keychain add failed: \(status)")
        }
    }
}

/// The key in the Secure Enclave: the private key never leaves it; the Keychain holds only an
/// encrypted reference that this device's enclave alone can use.
public final class SecureEnclaveDeviceSigner: DeviceSigner {
    private let key: SecureEnclave.P256.Signing.PrivateKey

    public static func loadOrCreate(tag: String) throws -> SecureEnclaveDeviceSigner {
        guard SecureEnclave.isAvailable else {
            throw SignerError.KeyUnavailable(reason: "no Secure Enclave")
        }
        if let blob = KeyBlob.load(tag) {
            return SecureEnclaveDeviceSigner(key: try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: blob))
        }
        let key = try SecureEnclave.P256.Signing.PrivateKey()
        try KeyBlob.store(tag, key.dataRepresentation)
        return SecureEnclaveDeviceSigner(key: key)
    }

    private init(key: SecureEnclave.P256.Signing.PrivateKey) { self.key = key }

    public func publicKey() throws -> Data { key.publicKey.x963Representation }

    public func sign(message: Data) throws -> Data {
        do {
            return try key.signature(for: message).derRepresentation
        } catch {
            throw SignerError.UserActionRequired(reason: "Secure Enclave: \(error)")
        }
    }
}

/// The software fallback (CryptoKit `P256.Signing`), its key kept in the Keychain.
public final class SoftwareDeviceSigner: DeviceSigner {
    private let key: P256.Signing.PrivateKey

    public static func loadOrCreate(tag: String) throws -> SoftwareDeviceSigner {
        if let blob = KeyBlob.load(tag) {
            return SoftwareDeviceSigner(key: try P256.Signing.PrivateKey(rawRepresentation: blob))
        }
        let key = P256.Signing.PrivateKey()
        try KeyBlob.store(tag, key.rawRepresentation)
        return SoftwareDeviceSigner(key: key)
    }

    private init(key: P256.Signing.PrivateKey) { self.key = key }

    public func publicKey() throws -> Data { key.publicKey.x963Representation }

    public func sign(message: Data) throws -> Data {
        do {
            return try key.signature(for: message).derRepresentation
        } catch {
            throw SignerError.KeyUnavailable(reason: "CryptoKit: \(error)")
        }
    }
}
