// The device key in Android Keystore: generated inside the TEE (or StrongBox where the device
// has one) and never leaving it; the app holds only its alias. ECDSA P-256 with SHA-256
// (docs/FORMAT.md §10), the EC key every Keystore supports. Hand-written, not generated.
//
// NOT COMPILED on the build machine (no Android SDK there): the JVM tests exercise
// SoftwareDeviceSigner, which shares sec1Uncompressed() and the java.security signing call.
//
//   val signer = AndroidKeystoreDeviceSigner.getOrCreate("permitseal-device")
//       ?: SoftwareDeviceSigner.generate()   // no usable Keystore: the software fallback
//   client.enrolDevice(signer)
//   val outbox = Outbox.openSigned(dir, signer)
//
// A Keystore key is lost when the user clears the app's data; a key made with
// setUserAuthenticationRequired(true) is invalidated by a new lock screen. Either way signing
// fails with SignerException.KeyUnavailable: the admin clears the token's binding and the
// device enrols a new key.

package org.permitseal.mobile

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec

class AndroidKeystoreDeviceSigner private constructor(private val alias: String) : DeviceSigner {
    companion object {
        private const val PROVIDER = "AndroidKeyStore"

        /** The key under `alias`, generated now if there is none; null without a Keystore. */
        fun getOrCreate(alias: String): AndroidKeystoreDeviceSigner? =
            try {
                val store = KeyStore.getInstance(PROVIDER).apply { load(null) }
                if (!store.containsAlias(alias)) generate(alias)
                AndroidKeystoreDeviceSigner(alias)
            } catch (e: GeneralSecurityException) {
                null
            }

        private fun generate(alias: String) {
            fun spec(strongBox: Boolean) =
                KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
                    .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
                    .setDigests(KeyProperties.DIGEST_SHA256)
                    .apply { if (strongBox && Build.VERSION.SDK_INT >= 28) setIsStrongBoxBacked(true) }
                    .build()
            val gen = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, PROVIDER)
            try {
                gen.initialize(spec(strongBox = true))
                gen.generateKeyPair()
            } catch (e: StrongBoxUnavailableException) {
                gen.initialize(spec(strongBox = false))
                gen.generateKeyPair()
            }
        }
    }

    private fun entry(): KeyStore.PrivateKeyEntry {
        val store = KeyStore.getInstance(PROVIDER).apply { load(null) }
        return store.getEntry(alias, null) as? KeyStore.PrivateKeyEntry
            ?: throw SignerException.KeyUnavailable("no key under the alias (app data cleared?)")
    }

    override fun publicKey(): ByteArray =
        sec1Uncompressed(entry().certificate.publicKey as ECPublicKey)

    override fun sign(message: ByteArray): ByteArray =
        try {
            Signature.getInstance("SHA256withECDSA").run {
                initSign(entry().privateKey)
                update(message)
                sign()
            }
        } catch (e: UserNotAuthenticatedException) {
            throw SignerException.UserActionRequired("the key needs the user to authenticate")
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw SignerException.KeyUnavailable("the key was invalidated (a new lock screen?)")
        } catch (e: GeneralSecurityException) {
            throw SignerException.KeyUnavailable("signing failed: ${e.javaClass.simpleName}")
        }
}
