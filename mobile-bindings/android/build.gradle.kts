// Android library module of the permitseal mobile SDK: the generated Kotlin bindings
// (src/main/kotlin, refreshed by scripts/check-generated.sh --write) and the Rust library
// for each ABI (src/main/jniLibs/<abi>/libpermitseal_mobile.so, built by
// scripts/build-android.sh). Include it from the app's settings.gradle.kts:
//
//   include(":permitseal")
//   project(":permitseal").projectDir = file("<repo>/mobile-bindings/android")
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
}

android {
    namespace = "org.permitseal.mobile"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // UniFFI's Kotlin bindings call the library through JNA; the AAR carries its native part.
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.2")
}
