// Who runs this deployment (deployer()): the cluster's admin when no pipelinePrincipalId is given.
// A module of its own because checkov's Bicep parser does not know deployer() and skips this file;
// it declares no resource, so nothing goes unchecked.
output objectId string = deployer().objectId
