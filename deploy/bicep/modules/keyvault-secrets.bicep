// Writes the application's secrets into the vault. Written through ARM (control plane), so the
// vault's private-only network access does not block the deployment.
param vaultName string
param secretNames array
@secure()
@description('Secret name -> value; must have exactly the keys in secretNames.')
param secretValues object
@description('Expiry stamped on every secret; each deployment rewrites the secrets and renews it.')
param expiresAt string = dateTimeAdd(utcNow(), 'P1Y')

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for secretName in secretNames: {
    parent: vault
    name: secretName
    properties: {
      value: secretValues[secretName]
      contentType: 'text/plain'
      attributes: {
        enabled: true
        exp: dateTimeToEpoch(expiresAt)
      }
    }
  }
]

output names array = [for (secretName, i) in secretNames: secret[i].name]
