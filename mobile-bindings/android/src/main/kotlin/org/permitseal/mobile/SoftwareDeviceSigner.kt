// The device key in software, over java.security: the fallback where the platform has no
// hardware key store (an emulator, a device whose Keystore refuses EC keys), and the signer of
// the JVM tests. ECDSA P-256 with SHA-256 (docs/FORMAT.md §10); the SDK turns the DER answer
// into the wire form (r || s, low s). Hand-written, not generated.
//
// The private key lives in this object: persist privateKeyPkcs8() and publicKeyX509() in
// app-private storage (Jetpack Security's EncryptedFile, say) and restore() them on the next
// start, or the device must enrol again with a new key. Prefer AndroidKeystoreDeviceSigner.
//
//   val signer = SoftwareDeviceSigner.generate()
//   client.enrolDevice(signer)                       // once, with the device token
//   val outbox = Outbox.openSigned(dir, signer)     // every item signed when recorded

package org.permitseal.mobile

import java.math.BigInteger
import java.security.GeneralSecurityException
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.PrivateKey
import java.security.Signature
import java.security.interfaces.ECPrivateKey
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.PKCS8EncodedKeySpec
import java.security.spec.X509EncodedKeySpec

/** The SEC1 uncompressed encoding (0x04 || x || y, 65 bytes) of a P-256 public key. */
fun sec1Uncompressed(key: ECPublicKey): ByteArray {
    fun coordinate(v: BigInteger): ByteArray {
        val b = v.toByteArray()
        return when {
            b.size == 32 -> b
            b.size > 32 -> b.copyOfRange(b.size - 32, b.size) // a leading sign byte
            else -> ByteArray(32 - b.size) + b
        }
    }
    return byteArrayOf(4) + coordinate(key.w.affineX) + coordinate(key.w.affineY)
}

/** ECDSA P-256 over SHA-256 of `message` with `key`, DER as java.security gives it. */
internal fun signDer(key: PrivateKey, message: ByteArray): ByteArray =
    try {
        Signature.getInstance("SHA256withECDSA").run {
            initSign(key)
            update(message)
            sign()
        }
    } catch (e: GeneralSecurityException) {
        throw SignerException.KeyUnavailable("signing failed: ${e.javaClass.simpleName}")
    }

class SoftwareDeviceSigner private constructor(private val keys: KeyPair) : DeviceSigner {
    companion object {
        /** A new key pair on the named curve secp256r1 (P-256). */
        fun generate(): SoftwareDeviceSigner {
            val gen = KeyPairGenerator.getInstance("EC")
            gen.initialize(ECGenParameterSpec("secp256r1"))
            return SoftwareDeviceSigner(gen.generateKeyPair())
        }

        /** The key pair saved by [privateKeyPkcs8] and [publicKeyX509]. */
        fun restore(privatePkcs8: ByteArray, publicX509: ByteArray): SoftwareDeviceSigner {
            val factory = KeyFactory.getInstance("EC")
            val private = factory.generatePrivate(PKCS8EncodedKeySpec(privatePkcs8)) as ECPrivateKey
            val public = factory.generatePublic(X509EncodedKeySpec(publicX509)) as ECPublicKey
            require(private.params.curve.field.fieldSize == 256) { "not a P-256 key" }
            val signer = SoftwareDeviceSigner(KeyPair(public, private))
            // The two halves must belong together: sign and check once.
            val probe = "permitseal key check".toByteArray()
            val ok = Signature.getInstance("SHA256withECDSA").run {
                initVerify(public)
                update(probe)
                verify(signer.sign(probe))
            }
            require(ok) { "the public key does not match the private key" }
            return signer
        }
    }

    /** The private key, PKCS#8 DER, for the app to keep in protected storage. */
    fun privateKeyPkcs8(): ByteArray = keys.private.encoded

    /** The public key, X.509 SubjectPublicKeyInfo DER, kept beside it. */
    fun publicKeyX509(): ByteArray = keys.public.encoded

    override fun publicKey(): ByteArray = sec1Uncompressed(keys.public as ECPublicKey)

    override fun sign(message: ByteArray): ByteArray = signDer(keys.private, message)
}
