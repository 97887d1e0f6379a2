<?xml version="1.0" encoding="UTF-8"?>
<DTSControl>
  <Version>1.0</Version>
  <AddressType>DTS</AddressType>
  <MessageType>Data</MessageType>
  <WorkflowId>GPFED_CONSULT_REPORT</WorkflowId>
  <From_DTS>X26ABC1</From_DTS>
  <To_DTS>GPPROVIDER_9434765919_19550109_Smith</To_DTS>
  <Subject>Remote health correspondence report for Richard Smith, NHS Number 9434765919, ODS Code X26</Subject>
  <LocalId>X26</LocalId>
  <DTSId></DTSId>
  <Compress>Y</Compress>
  <Encrypted>N</Encrypted>
  <StatusRecord>
    <StatusCode></StatusCode>
  </StatusRecord>
</DTSControl>
