// Keep the trusted root CA stores of a web server fleet exactly as declared.
package trustedroots
