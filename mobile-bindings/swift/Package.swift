// swift-tools-version:5.9
// The permitseal mobile SDK for iOS: the generated Swift bindings (Sources/PermitSeal) over
// the Rust static library packed by scripts/build-ios.sh into PermitSealFFI.xcframework.
import PackageDescription

let package = Package(
    name: "PermitSeal",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "PermitSeal", targets: ["PermitSeal"]),
    ],
    targets: [
        .binaryTarget(name: "permitseal_mobileFFI", path: "PermitSealFFI.xcframework"),
        .target(
            name: "PermitSeal",
            dependencies: ["permitseal_mobileFFI"],
            path: "Sources/PermitSeal"
        ),
    ]
)
